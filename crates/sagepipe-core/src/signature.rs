//! What a step's inputs are, in a form two runs can compare. One signature serves both the
//! cache (SageMaker's per-type cache-key fields plus the content of the code the step runs) and
//! changed-step selection (all arguments, with reasons when they differ).
//!
//! Two normalisations make runs comparable: the step's own execution id (and job name) is
//! replaced by a placeholder, because every run has a new one; and each code artifact the step
//! runs is replaced by the hash of its content (comments and whitespace ignored where the Python
//! side recorded a normalised hash), because a code URI may stay the same while its file changes,
//! or change while only a comment did. Ids that reach a step through an upstream step's
//! properties are kept: they say which run produced the input.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::definition::FlatStep;
use super::expr::{evaluate, Scope};
use super::store::Signature;
use super::util;

/// Stands for the running execution's id inside a signature.
pub const EXECUTION_ID: &str = "{PipelineExecutionId}";
/// Stands for the job name generated for one run of a step.
pub const JOB_NAME: &str = "{JobName}";
/// Written next to an uploaded code artifact by the Python side: its normalised content hash.
pub const CODE_SIDECAR_SUFFIX: &str = ".sagepipe-code.json";

/// A scope in which the execution's own identity reads as placeholders.
pub struct NormalizingScope<'a> {
    pub inner: &'a dyn Scope,
}

impl Scope for NormalizingScope<'_> {
    fn parameter(&self, name: &str) -> Option<Value> {
        self.inner.parameter(name)
    }
    fn execution_variable(&self, name: &str) -> Option<Value> {
        match name {
            "PipelineExecutionId" => Some(Value::String(EXECUTION_ID.into())),
            "PipelineExecutionArn" => self
                .inner
                .execution_variable("PipelineName")
                .and_then(|n| n.as_str().map(|n| util::execution_arn(n, EXECUTION_ID)))
                .map(Value::String),
            "TrainingJobName" | "ProcessingJobName" => Some(Value::String(JOB_NAME.into())),
            other => self.inner.execution_variable(other),
        }
    }
    fn experiment_config(&self, field: &str) -> Option<Value> {
        self.inner.experiment_config(field)
    }
    fn step_properties(&self, step: &str) -> Result<Value, String> {
        self.inner.step_properties(step)
    }
    fn property_file(&self, step: &str, file: &str) -> Result<Value, String> {
        self.inner.property_file(step, file)
    }
    fn read_json_uri(&self, uri: &str) -> Result<Value, String> {
        self.inner.read_json_uri(uri)
    }
}

/// SageMaker's default cache-key attributes per step type; `None`: all arguments.
fn cache_key_fields(step_type: &str) -> Option<&'static [&'static str]> {
    match step_type {
        "Processing" => Some(&["AppSpecification", "Environment", "ProcessingInputs"]),
        "Training" => Some(&[
            "AlgorithmSpecification",
            "CheckpointConfig",
            "DebugHookConfig",
            "DebugRuleConfigurations",
            "Environment",
            "HyperParameters",
            "InputDataConfig",
        ]),
        "Transform" => Some(&["DataProcessing", "Environment", "ModelName", "TransformInput"]),
        "Tuning" => Some(&[
            "HyperParameterTuningJobConfig",
            "TrainingJobDefinition",
            "TrainingJobDefinitions",
        ]),
        _ => None,
    }
}

/// The part of normalised arguments that the cache key of `step_type` covers.
fn key_doc(step_type: &str, arguments: &Value) -> Value {
    match (cache_key_fields(step_type), arguments) {
        (Some(fields), Value::Object(m)) => Value::Object(
            fields
                .iter()
                .filter_map(|f| m.get(*f).map(|v| (f.to_string(), v.clone())))
                .collect(),
        ),
        _ => arguments.clone(),
    }
}

/// One code artifact a step runs.
struct CodeRef {
    label: String,
    /// The text that names the artifact inside the arguments (a URI, or a content-addressed dir).
    token: String,
    hash: String,
}

/// The signature of `step` with its arguments resolved in `scope` (normalised): a ConditionStep's
/// conditions, any other step's arguments.
pub fn of_step(
    step: &FlatStep,
    scope: &dyn Scope,
    locate: &dyn Fn(&str) -> Option<PathBuf>,
) -> Result<Signature, String> {
    let norm = NormalizingScope { inner: scope };
    let doc = if step.def.step_type == "Condition" {
        step.def.arguments.get("Conditions").unwrap_or(&Value::Null)
    } else {
        &step.def.arguments
    };
    let resolved = evaluate(doc, &norm)?;
    Ok(signature(&step.def.step_type, &resolved, locate))
}

/// The signature of a step whose arguments were resolved in a `NormalizingScope`.
pub fn signature(step_type: &str, args: &Value, locate: &dyn Fn(&str) -> Option<PathBuf>) -> Signature {
    let refs = code_refs(step_type, args, locate);
    let arguments = replace_strings(args, &|s: &str| {
        let mut out = s.to_string();
        for r in &refs {
            if !r.token.is_empty() && out.contains(&r.token) {
                out = out.replace(&r.token, &format!("code:{}", r.hash));
            }
        }
        out
    });
    let canonical = canonical_json(&serde_json::json!({"Type": step_type, "Key": key_doc(step_type, &arguments)}));
    Signature {
        arguments,
        code: refs.into_iter().map(|r| (r.label, r.hash)).collect(),
        cache_key: util::sha256_hex(canonical.as_bytes()),
    }
}

/// JSON text with object keys sorted, so equal documents hash equally.
pub fn canonical_json(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let b: BTreeMap<&String, Value> = m.iter().map(|(k, v)| (k, sorted(v))).collect();
                Value::Object(b.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

fn replace_strings(v: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| replace_strings(x, f)).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), replace_strings(x, f))).collect()),
        other => other.clone(),
    }
}

fn code_refs(step_type: &str, args: &Value, locate: &dyn Fn(&str) -> Option<PathBuf>) -> Vec<CodeRef> {
    let mut refs = Vec::new();
    let mut add = |kind: &str, uri: &str, token: &str, path: Option<PathBuf>| {
        let (hash, name) = content_hash(path.as_deref(), uri);
        let label = format!("{kind} {}", name.unwrap_or_else(|| basename(uri).to_string()));
        refs.push(CodeRef {
            label,
            token: token.to_string(),
            hash,
        });
    };
    match step_type {
        "Processing" => {
            for input in args
                .get("ProcessingInputs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = input.get("InputName").and_then(Value::as_str).unwrap_or("");
                let local = input
                    .pointer("/S3Input/LocalPath")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let is_code = name == "code"
                    || name == "entrypoint"
                    || local.starts_with("/opt/ml/processing/input/code")
                    || local.starts_with("/opt/ml/processing/input/entrypoint");
                if let (true, Some(uri)) = (is_code, input.pointer("/S3Input/S3Uri").and_then(Value::as_str)) {
                    let kind = if name == "entrypoint" { "entry point" } else { "script" };
                    add(kind, uri, uri, locate(uri));
                }
            }
        }
        "Training" => {
            if let Some(dir) = args.pointer("/HyperParameters/sagemaker_submit_directory") {
                let uri = dir.as_str().unwrap_or("").trim_matches('"');
                add("source", uri, uri, locate(uri));
            }
            if let Ok(fa) = super::function_args::parse(args) {
                let uri = format!("{}/function.pkl", fa.payload_uri());
                add("function", &uri, &fa.func_step_s3_dir, locate(&uri));
            }
        }
        "Tuning" => {
            // Each training job definition's script-mode source, as for a training step.
            let definitions = match args.get("TrainingJobDefinitions").and_then(Value::as_array) {
                Some(list) => list.iter().collect(),
                None => args.get("TrainingJobDefinition").into_iter().collect::<Vec<_>>(),
            };
            for d in definitions {
                if let Some(dir) = d.pointer("/StaticHyperParameters/sagemaker_submit_directory") {
                    let uri = dir.as_str().unwrap_or("").trim_matches('"');
                    add("source", uri, uri, locate(uri));
                }
            }
        }
        _ => {}
    }
    refs
}

fn basename(uri: &str) -> &str {
    uri.trim_end_matches('/').rsplit('/').next().unwrap_or(uri)
}

/// The content hash of a code artifact and the display name its sidecar gives, if any.
/// Prefers the normalised hash the Python side wrote next to it; otherwise hashes the bytes.
fn content_hash(path: Option<&Path>, uri: &str) -> (String, Option<String>) {
    let Some(path) = path else {
        return (format!("unlocatable:{uri}"), None);
    };
    let mut sidecar = path.as_os_str().to_owned();
    sidecar.push(CODE_SIDECAR_SUFFIX);
    if let Ok(Some(v)) = super::store::read_json::<Value>(&PathBuf::from(sidecar)) {
        if let Some(h) = v.get("normalized_sha256").and_then(Value::as_str) {
            let name = v.get("label").and_then(Value::as_str).map(str::to_string);
            return (h.to_string(), name);
        }
    }
    match super::store::fingerprint::fingerprint(path) {
        Some((_, _, sha)) => (sha, None),
        None => (format!("missing:{uri}"), None),
    }
}

/// Why two signatures of the same step differ, one short phrase per difference, most
/// specific first: code, then the argument paths that changed.
pub fn differences(old: &Signature, new: &Signature) -> Vec<String> {
    let mut out = Vec::new();
    for (label, h) in &new.code {
        match old.code.get(label) {
            Some(o) if o == h => {}
            Some(_) => out.push(format!("{label} changed")),
            None => out.push(format!("{label} is new")),
        }
    }
    for label in old.code.keys() {
        if !new.code.contains_key(label) {
            out.push(format!("{label} is no longer used"));
        }
    }
    let mut paths = Vec::new();
    diff_paths(&old.arguments, &new.arguments, &mut String::new(), &mut paths);
    // A code change shows up as changed URIs too; say it once.
    let code_tokens: Vec<String> = new.code.values().map(|h| format!("code:{h}")).collect();
    for (path, before, after) in paths {
        let mentions_code = |v: &Option<Value>| {
            v.as_ref()
                .is_some_and(|v| code_tokens.iter().any(|t| v.to_string().contains(t.as_str())))
        };
        if mentions_code(&after) || mentions_code(&before) {
            continue;
        }
        out.push(format!(
            "{path} changed {} -> {}",
            short(before.as_ref()),
            short(after.as_ref())
        ));
    }
    out
}

/// `differences` restricted to what the cache key of `step_type` covers (why a cache missed).
pub fn key_differences(step_type: &str, old: &Signature, new: &Signature) -> Vec<String> {
    let pick = |s: &Signature| Signature {
        arguments: key_doc(step_type, &s.arguments),
        ..s.clone()
    };
    differences(&pick(old), &pick(new))
}

fn short(v: Option<&Value>) -> String {
    let text = match v {
        None => return "(absent)".into(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    };
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(57).collect::<String>())
    } else {
        text
    }
}

type Change = (String, Option<Value>, Option<Value>);

fn diff_paths(old: &Value, new: &Value, here: &mut String, out: &mut Vec<Change>) {
    if out.len() >= 8 || old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let len = here.len();
                if !here.is_empty() {
                    here.push('.');
                }
                here.push_str(k);
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => diff_paths(x, y, here, out),
                    (x, y) => out.push((here.clone(), x.cloned(), y.cloned())),
                }
                here.truncate(len);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                let len = here.len();
                here.push_str(&format!("[{i}]"));
                diff_paths(x, y, here, out);
                here.truncate(len);
            }
        }
        _ => out.push((here.clone(), Some(old.clone()), Some(new.clone()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn none(_: &str) -> Option<PathBuf> {
        None
    }

    #[test]
    fn cache_key_ignores_fields_outside_the_type_key() {
        let a = json!({"AppSpecification": {"ImageUri": "i"}, "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.xlarge"}}});
        let b = json!({"AppSpecification": {"ImageUri": "i"}, "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.c5.large"}}});
        assert_eq!(
            signature("Processing", &a, &none).cache_key,
            signature("Processing", &b, &none).cache_key
        );
        let c = json!({"AppSpecification": {"ImageUri": "j"}});
        assert_ne!(
            signature("Processing", &a, &none).cache_key,
            signature("Processing", &c, &none).cache_key
        );
    }

    #[test]
    fn code_is_compared_by_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("prep.py");
        std::fs::write(&script, "print(1)\n").expect("write");
        let args = |uri: &str| json!({"ProcessingInputs": [{"InputName": "code", "S3Input": {"S3Uri": uri, "LocalPath": "/opt/ml/processing/input/code"}}]});
        let locate = |_: &str| Some(script.clone());
        let s1 = signature("Processing", &args("s3://b/p/code/aaa/prep.py"), &locate);
        // Another URI with the same content: same key.
        let s2 = signature("Processing", &args("s3://b/p/code/bbb/prep.py"), &locate);
        assert_eq!(s1.cache_key, s2.cache_key);
        std::fs::write(&script, "print(2)\n").expect("write");
        let s3 = signature("Processing", &args("s3://b/p/code/aaa/prep.py"), &locate);
        assert_ne!(s1.cache_key, s3.cache_key);
        assert_eq!(differences(&s1, &s3), vec!["script prep.py changed".to_string()]);
        // A sidecar's normalised hash wins over the bytes.
        std::fs::write(
            dir.path().join("prep.py.sagepipe-code.json"),
            r#"{"normalized_sha256": "n1"}"#,
        )
        .expect("write");
        let s4 = signature("Processing", &args("s3://b/p/code/aaa/prep.py"), &locate);
        assert_eq!(s4.code.get("script prep.py").map(String::as_str), Some("n1"));
    }

    #[test]
    fn differences_name_argument_paths() {
        let a = signature("Training", &json!({"HyperParameters": {"eta": "0.2"}}), &none);
        let b = signature("Training", &json!({"HyperParameters": {"eta": "0.25"}}), &none);
        assert_eq!(
            differences(&a, &b),
            vec![r#"HyperParameters.eta changed "0.2" -> "0.25""#.to_string()]
        );
    }
}
