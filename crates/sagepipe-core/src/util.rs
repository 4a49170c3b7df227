//! Small shared helpers: clock, ids, ARNs, hashing.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

pub const REGION: &str = "local";
pub const ACCOUNT: &str = "000000000000";

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// RFC 3339 text (UTC, milliseconds) for an epoch time, as `Execution.StartDateTime` renders.
pub fn iso8601(t: f64) -> String {
    let nanos = (t * 1e9) as i128;
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(dt) => {
            let fmt = time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            );
            dt.format(&fmt).unwrap_or_default()
        }
        Err(_) => String::new(),
    }
}

/// 12 random lowercase alphanumerics, the service's execution-id shape.
pub fn new_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 12];
    if getrandom::fill(&mut bytes).is_err() {
        // Fall back to the clock and pid; ids only need to be unique in one store.
        let seed = (now() * 1e9) as u64 ^ u64::from(std::process::id()).rotate_left(32);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (seed >> ((i % 8) * 8)) as u8 ^ (i as u8).wrapping_mul(37);
        }
    }
    bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

pub fn pipeline_arn(name: &str) -> String {
    format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{name}")
}

pub fn execution_arn(name: &str, id: &str) -> String {
    format!("{}/execution/{id}", pipeline_arn(name))
}

/// Whether `name` fits the pipeline-name pattern `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}`.
/// Whether `name` fits the service's step-name pattern `^[A-Za-z0-9\-_]{1,64}$`.
pub fn valid_step_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn valid_pipeline_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 255
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// The pipeline name of a pipeline ARN (`arn:<partition>:sagemaker:<region>:<account>:pipeline/<name>`)
/// of any region/account.
pub fn parse_pipeline_arn(arn: &str) -> Option<String> {
    let resource = arn.strip_prefix("arn:")?.splitn(5, ':').nth(4)?;
    let name = resource.strip_prefix("pipeline/")?;
    (!name.is_empty() && !name.contains('/')).then(|| name.to_string())
}

/// `(pipeline name, execution id)` from an execution ARN of any region/account.
pub fn parse_execution_arn(arn: &str) -> Option<(String, String)> {
    let rest = arn.strip_prefix("arn:")?;
    let resource = rest.splitn(5, ':').nth(4)?;
    let rest = resource.strip_prefix("pipeline/")?;
    let (name, id) = rest.rsplit_once("/execution/")?;
    (!name.is_empty() && !id.is_empty() && !id.contains('/')).then(|| (name.to_string(), id.to_string()))
}

/// Longest job name the service accepts (`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`).
pub const MAX_JOB_NAME: usize = 63;

/// The name of a step's job, shaped as the service names them: `pipelines-<execution id>-<step
/// name>-<random>`. A step name that does not fit, or has characters job names do not allow
/// (`_`), is cut and cleaned to stay readable and followed by a short hash of the whole step name:
/// two steps of one execution never share a job name (and with it a job directory, `/opt/ml`, a
/// training output path or a job ARN), however long the prefix their names share.
pub fn job_name(execution_id: &str, step: &str, random: &str) -> String {
    let head = format!("pipelines-{execution_id}-");
    let tail = format!("-{random}");
    let room = MAX_JOB_NAME.saturating_sub(head.len() + tail.len());
    if step.len() <= room && step.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return format!("{head}{step}{tail}");
    }
    let hash = &sha256_hex(step.as_bytes())[..8];
    let cleaned: String = step
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(room.saturating_sub(hash.len() + 1))
        .collect();
    match cleaned.trim_matches('-') {
        "" => format!("{head}{hash}{tail}"),
        readable => format!("{head}{readable}-{hash}{tail}"),
    }
}

pub fn job_arn(kind: &str, name: &str) -> String {
    format!("arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{}", name.to_lowercase())
}

/// `s` with control and non-ASCII characters escaped, cut to 80 characters: safe to quote in a message.
pub fn shorten(s: &str) -> String {
    let esc: String = s.chars().flat_map(char::escape_default).collect();
    if esc.chars().count() > 80 {
        format!("{}...", esc.chars().take(80).collect::<String>())
    } else {
        esc
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of everything `f` yields, streamed.
pub fn sha256_reader(mut f: impl Read) -> std::io::Result<String> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// `items` mapped by `f` on every core (scoped threads over contiguous chunks), in order. A
/// panicking `f` panics here.
pub fn parallel_map<I: Send, O: Send>(items: Vec<I>, f: impl Fn(I) -> O + Sync) -> Vec<O> {
    parallel_map_on(std::thread::available_parallelism().map_or(1, |n| n.get()), items, f)
}

/// `parallel_map` on `threads` threads (more than the cores for work that mostly waits).
pub fn parallel_map_on<I: Send, O: Send>(threads: usize, items: Vec<I>, f: impl Fn(I) -> O + Sync) -> Vec<O> {
    if threads < 2 || items.len() < 2 {
        return items.into_iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let mut chunks: Vec<Vec<I>> = Vec::with_capacity(threads);
    let mut items = items.into_iter();
    loop {
        let chunk: Vec<I> = items.by_ref().take(per).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(f).collect::<Vec<O>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_round_trip() {
        let arn = execution_arn("my-pipe", "abc123def456");
        assert_eq!(
            arn,
            "arn:aws:sagemaker:local:000000000000:pipeline/my-pipe/execution/abc123def456"
        );
        assert_eq!(
            parse_execution_arn(&arn),
            Some(("my-pipe".into(), "abc123def456".into()))
        );
        assert_eq!(parse_execution_arn("arn:aws:sagemaker:us-east-1:1:pipeline/x"), None);
        assert_eq!(parse_execution_arn("garbage"), None);
        assert_eq!(parse_pipeline_arn(&pipeline_arn("my-pipe")), Some("my-pipe".into()));
        assert_eq!(
            parse_pipeline_arn("arn:aws:sagemaker:us-east-1:1:pipeline/x"),
            Some("x".into())
        );
        assert_eq!(parse_pipeline_arn(&arn), None);
        assert_eq!(parse_pipeline_arn("arn:aws:sagemaker:us-east-1:1:pipeline/"), None);
        assert_eq!(parse_pipeline_arn("my-pipe"), None);
    }

    #[test]
    fn ids_have_the_service_shape() {
        let id = new_id();
        assert_eq!(id.len(), 12);
        assert!(id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert_ne!(new_id(), id);
    }

    #[test]
    fn job_names_are_unique_per_step_and_valid_for_the_service() {
        let valid = regex::Regex::new(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$").expect("regex");
        let exec = new_id();
        // Short names keep the service's shape.
        assert_eq!(
            job_name(&exec, "Train", "AbCdE12345"),
            format!("pipelines-{exec}-Train-AbCdE12345")
        );
        // Names sharing their first 40 (or 63) characters, or differing only in `_` vs `-`.
        let shared = "TrainTheModelOnTheFullAbaloneDatasetWith";
        let steps = [
            format!("{shared}XGBoostA"),
            format!("{shared}XGBoostB"),
            format!("{}A", "x".repeat(63)),
            format!("{}B", "x".repeat(63)),
            "my_step".to_string(),
            "my-step".to_string(),
            "___".to_string(),
            "a".repeat(29),
            "a".repeat(30),
        ];
        let names: Vec<String> = steps.iter().map(|s| job_name(&exec, s, "AbCdE12345")).collect();
        for (step, name) in steps.iter().zip(&names) {
            assert!(valid.is_match(name), "{step} -> {name}");
            assert!(name.ends_with("-AbCdE12345"), "{name}");
        }
        let distinct: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len(), "{names:#?}");
        assert!(
            names[0].starts_with(&format!("pipelines-{exec}-TrainTheModelOnTheFu-")),
            "{}",
            names[0]
        );
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso8601(0.5), "1970-01-01T00:00:00.500Z");
    }

    #[test]
    fn parallel_map_keeps_the_order() {
        let doubled = parallel_map((0..10_001).collect(), |i: u64| i * 2);
        assert_eq!(doubled, (0..10_001).map(|i| i * 2).collect::<Vec<_>>());
        assert!(parallel_map(Vec::<u8>::new(), |i| i).is_empty());
    }
}
