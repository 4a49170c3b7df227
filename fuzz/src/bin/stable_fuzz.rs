//! A fuzzing driver that needs no nightly compiler and no libFuzzer: mutates seed inputs
//! (bytes and JSON structure) and runs a target on each for a given time, catching panics.
//!
//! `stable-fuzz <definition|expression|selection> <seconds> [seed]`; seeds come from
//! `tests/fixtures/definitions/*.json` and `fuzz/corpus/<target>/*`. A panicking input is saved
//! to `fuzz/artifacts/<target>/panic-<hash>` and the driver exits with status 1.

use serde_json::{json, Value};
use std::panic;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens the definition language cares about, spliced into inputs.
const TOKENS: &[&str] = &[
    "{\"Get\": \"Steps.",
    "{\"Get\": \"Parameters.",
    "{\"Get\": \"Execution.PipelineExecutionId\"}",
    "\"DependsOn\": [",
    "\"Std:JsonGet\"",
    "\"Std:Join\"",
    "\"PropertyFiles\"",
    "\"Conditions\": [",
    "\"IfSteps\": [",
    "\"ElseSteps\": [",
    "\"Type\": \"Condition\"",
    "\"Type\": \"Not\"",
    "\"Type\": \"Or\"",
    "\"Type\": \"In\"",
    "Outputs['x']",
    "[0]",
    "[-1]",
    "['",
    "']",
    "..",
    "/",
    "\\u0000",
    "\\ud800",
    "null",
    "true",
    "18446744073709551616",
    "-9223372036854775808",
    "1e400",
    "\"\"",
    "[]",
    "{}",
];

fn interesting(rng: &mut Rng, names: &[String]) -> Value {
    let name = names
        .get(rng.below(names.len()))
        .cloned()
        .unwrap_or_else(|| "S0".into());
    match rng.below(16) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(-1),
        3 => json!(u64::MAX),
        4 => json!(1.5e300),
        5 => json!(""),
        6 => json!(name),
        7 => json!([name]),
        8 => json!({"Get": format!("Steps.{name}.Outputs['x'][0].Y")}),
        9 => json!({"Get": "Parameters.Int"}),
        10 => json!({"Std:Join": {"On": ",", "Values": [1, {"Get": "Execution.PipelineName"}]}}),
        11 => {
            json!({"Std:JsonGet": {"PropertyFile": {"Get": format!("Steps.{name}.PropertyFiles.Metrics")}, "Path": "a.b[0]"}})
        }
        12 => {
            json!({"Type": "Not", "Condition": {"Type": "Equals", "LeftValue": 1, "RightValue": {"Get": "Parameters.Int"}}})
        }
        13 => json!({"Name": format!("{name}x"), "Type": "Fail", "DependsOn": [name]}),
        14 => {
            json!({"Name": name, "Type": "Condition", "Arguments": {"Conditions": [], "IfSteps": [], "ElseSteps": []}})
        }
        _ => json!("x".repeat(rng.below(300))),
    }
}

fn collect_names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(n)) = m.get("Name") {
                out.push(n.clone());
            }
            m.values().for_each(|x| collect_names(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_names(x, out)),
        _ => {}
    }
}

/// Change one random node of a JSON document.
fn mutate_json(rng: &mut Rng, v: &mut Value, names: &[String], depth: usize) {
    let stop = depth > 0 && rng.below(3) == 0;
    match v {
        Value::Object(m) if !m.is_empty() && !stop => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = keys[rng.below(keys.len())].clone();
            match rng.below(8) {
                0 => {
                    m.remove(&k);
                }
                1 => {
                    let dup = m.get(&k).cloned().unwrap_or(Value::Null);
                    m.insert(format!("{k}{}", rng.below(3)), dup);
                }
                _ => {
                    if let Some(child) = m.get_mut(&k) {
                        mutate_json(rng, child, names, depth + 1);
                    }
                }
            }
        }
        Value::Array(a) if !a.is_empty() && !stop => {
            let i = rng.below(a.len());
            match rng.below(8) {
                0 => {
                    a.remove(i);
                }
                1 => {
                    let dup = a[i].clone();
                    a.push(dup);
                }
                2 => {
                    let j = rng.below(a.len());
                    a.swap(i, j);
                }
                _ => mutate_json(rng, &mut a[i], names, depth + 1),
            }
        }
        _ => *v = interesting(rng, names),
    }
}

fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(32) + 1);
                data.drain(i..i + n);
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let i = rng.below(len + 1);
                data.splice(i..i, t.iter().copied());
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below((len - i).min(64) + 1);
                let chunk: Vec<u8> = data[i..i + n].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(at..at, chunk);
            }
            4 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let n = rng.below((other.len() - i).min(128) + 1);
                    let at = rng.below(data.len() + 1);
                    data.splice(at..at, other[i..i + n].iter().copied());
                }
            }
            _ => data.push(rng.next() as u8),
        }
    }
}

fn read_seeds(dirs: &[PathBuf]) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(d) else { continue };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
        paths.sort();
        seeds.extend(paths.iter().filter_map(|p| std::fs::read(p).ok()));
    }
    seeds
}

fn default_seeds(target: &str) -> Vec<Vec<u8>> {
    match target {
        "expression" => [
            r#"{"Get": "Steps.Train.FinalMetricDataList['loss'].Value"}"#,
            r#"{"Std:Join": {"On": "/", "Values": ["s3://b", {"Get": "Execution.PipelineExecutionId"}, 1, true]}}"#,
            r#"{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Prep.PropertyFiles.Metrics"}, "Path": "metrics.acc[2].deep"}}"#,
            r#"{"Std:JsonGet": {"S3Uri": "s3://b/x.json", "Path": "metrics.loss"}}"#,
            r#"{"Type": "Or", "Conditions": [{"Type": "GreaterThan", "LeftValue": {"Get": "Parameters.Int"}, "RightValue": 3}, {"Type": "In", "QueryValue": "a", "Values": ["a", {"Get": "Parameters.Str"}]}]}"#,
            r#"{"Type": "Not", "Condition": {"Type": "LessThanOrEqualTo", "LeftValue": {"Get": "Parameters.Float"}, "RightValue": 0.5}}"#,
            "Steps.Train.ModelArtifacts.S3ModelArtifacts",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect(),
        "selection" => (0..16u8).map(|i| (0..64u8).map(|j| i.wrapping_mul(37) ^ j.wrapping_mul(11)).collect()).collect(),
        _ => vec![br#"{"Version": "2020-12-01", "Steps": []}"#.to_vec()],
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: stable-fuzz <definition|expression|selection> <seconds> [seed]";
    let (Some(target), Some(seconds)) = (args.get(1), args.get(2).and_then(|s| s.parse::<f64>().ok())) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let run: fn(&[u8]) = match target.as_str() {
        "definition" => sagepipe_fuzz::definition,
        "expression" => sagepipe_fuzz::expression,
        "selection" => sagepipe_fuzz::selection,
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let fuzz_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![fuzz_dir.join("corpus").join(target)];
    if target == "definition" {
        dirs.push(fuzz_dir.join("../tests/fixtures/definitions"));
    }
    let mut seeds = read_seeds(&dirs);
    seeds.extend(default_seeds(target));
    let json_seeds: Vec<Value> = seeds.iter().filter_map(|s| serde_json::from_slice(s).ok()).collect();

    panic::set_hook(Box::new(|_| {})); // reported below, with the input
    let mut rng = Rng(seed | 1);
    let Ok(run_for) = Duration::try_from_secs_f64(seconds) else {
        eprintln!("seconds must be a non-negative number, not {seconds}");
        std::process::exit(2);
    };
    let deadline = Instant::now() + run_for;
    let (mut execs, mut panics) = (0u64, 0u64);
    while Instant::now() < deadline {
        for _ in 0..64 {
            let input: Vec<u8> = if !json_seeds.is_empty() && rng.below(2) == 0 {
                let mut doc = json_seeds[rng.below(json_seeds.len())].clone();
                let mut names = Vec::new();
                collect_names(&doc, &mut names);
                for _ in 0..1 + rng.below(3) {
                    mutate_json(&mut rng, &mut doc, &names, 0);
                }
                doc.to_string().into_bytes()
            } else {
                let mut data = seeds[rng.below(seeds.len())].clone();
                mutate_bytes(&mut rng, &mut data, &seeds);
                data
            };
            execs += 1;
            if let Err(payload) = panic::catch_unwind(|| run(&input)) {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|m| m.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                panics += 1;
                let name = format!(
                    "panic-{:016x}",
                    input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
                    })
                );
                let dir = fuzz_dir.join("artifacts").join(target);
                let _ = std::fs::create_dir_all(&dir);
                let _ = std::fs::write(dir.join(&name), &input);
                eprintln!("PANIC ({message}) on input saved as {}", dir.join(&name).display());
                // Keep the input that found new trouble as a seed for more of the same.
                seeds.push(input);
            }
        }
    }
    println!("{target}: {execs} executions, {panics} panics (seed {seed})");
    if panics > 0 {
        std::process::exit(1);
    }
}
