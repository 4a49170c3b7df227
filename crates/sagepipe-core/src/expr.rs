//! Expressions of the definition language: `Get` references, `Std:Join`, `Std:JsonGet`, and the
//! condition types of ConditionStep, evaluated against a `Scope`.

use serde_json::{Map, Value};
use std::cmp::Ordering;

/// One step of a property path: `.Attr`, `['key']` or `[index]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSeg {
    Attr(String),
    Key(String),
    Index(i64),
}

impl std::fmt::Display for PathSeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathSeg::Attr(a) => write!(f, ".{a}"),
            PathSeg::Key(k) => write!(f, "['{k}']"),
            PathSeg::Index(i) => write!(f, "[{i}]"),
        }
    }
}

pub fn render_path(path: &[PathSeg]) -> String {
    let s: String = path.iter().map(ToString::to_string).collect();
    s.strip_prefix('.').map(str::to_string).unwrap_or(s)
}

/// What a `{"Get": ...}` string refers to.
#[derive(Debug, Clone, PartialEq)]
pub enum Reference {
    Parameter(String),
    Execution(String),
    Experiment(String),
    /// `Steps.<step>.<path>`
    Step {
        step: String,
        path: Vec<PathSeg>,
    },
    /// `Steps.<step>.PropertyFiles.<file>` (only meaningful inside `Std:JsonGet`)
    PropertyFile {
        step: String,
        file: String,
    },
}

impl Reference {
    pub fn step_name(&self) -> Option<&str> {
        match self {
            Reference::Step { step, .. } | Reference::PropertyFile { step, .. } => Some(step),
            _ => None,
        }
    }
}

pub const EXECUTION_VARIABLES: &[&str] = &[
    "PipelineExecutionId",
    "PipelineExecutionArn",
    "PipelineName",
    "PipelineArn",
    "StartDateTime",
    "CurrentDateTime",
    "TrainingJobName",
    "ProcessingJobName",
];

/// Parse a dotted/bracketed path such as `Outputs['train'].S3Output.S3Uri` or `Result[0]["k"]`.
pub fn parse_path(text: &str) -> Result<Vec<PathSeg>, String> {
    let bytes: Vec<char> = text.chars().collect();
    let mut segs = Vec::new();
    let mut i = 0;
    let n = bytes.len();
    let bad = |why: &str| Err(format!("invalid path '{text}': {why}"));
    // A leading "$." (JSONPath root) is accepted and ignored.
    if text.starts_with("$.") {
        i = 2;
    } else if text == "$" {
        return Ok(segs);
    }
    let mut expect_attr = true;
    while i < n {
        match bytes[i] {
            '.' => {
                i += 1;
                expect_attr = true;
                if i >= n {
                    return bad("ends with '.'");
                }
            }
            '[' => {
                let close = match bytes[i..].iter().position(|&c| c == ']') {
                    Some(p) => i + p,
                    None => return bad("unclosed '['"),
                };
                let inner: String = bytes[i + 1..close].iter().collect();
                let inner = inner.trim();
                if (inner.starts_with('\'') && inner.ends_with('\'') || inner.starts_with('"') && inner.ends_with('"'))
                    && inner.len() >= 2
                {
                    segs.push(PathSeg::Key(inner[1..inner.len() - 1].to_string()));
                } else if let Ok(idx) = inner.parse::<i64>() {
                    segs.push(PathSeg::Index(idx));
                } else {
                    return bad(&format!("'[{inner}]' is neither an index nor a quoted key"));
                }
                i = close + 1;
                expect_attr = false;
            }
            _ => {
                if !expect_attr {
                    return bad("expected '.' or '[' between path parts");
                }
                let start = i;
                while i < n && bytes[i] != '.' && bytes[i] != '[' {
                    i += 1;
                }
                let name: String = bytes[start..i].iter().collect();
                segs.push(PathSeg::Attr(name));
                expect_attr = false;
            }
        }
    }
    Ok(segs)
}

/// Parse the string of a `{"Get": ...}`.
pub fn parse_get(text: &str) -> Result<Reference, String> {
    let (root, rest) = text.split_once('.').unwrap_or((text, ""));
    match root {
        "Parameters" if !rest.is_empty() => Ok(Reference::Parameter(rest.to_string())),
        "Execution" if !rest.is_empty() => Ok(Reference::Execution(rest.to_string())),
        "PipelineExperimentConfig" if !rest.is_empty() => Ok(Reference::Experiment(rest.to_string())),
        "Steps" if !rest.is_empty() => {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let step = rest[..end].to_string();
            if step.is_empty() {
                return Err(format!("'{text}' does not name a step"));
            }
            let path = parse_path(&rest[end..]).map_err(|e| format!("in '{text}': {e}"))?;
            if let [PathSeg::Attr(pf), PathSeg::Attr(file)] = path.as_slice() {
                if pf == "PropertyFiles" {
                    return Ok(Reference::PropertyFile {
                        step,
                        file: file.clone(),
                    });
                }
            }
            Ok(Reference::Step { step, path })
        }
        _ => Err(format!(
            "'{text}' is not a reference: expected 'Parameters.<name>', 'Execution.<variable>', \
             'Steps.<step>.<property>' or 'PipelineExperimentConfig.<field>'"
        )),
    }
}

/// Every `Get` reference inside a JSON value, with its location (JSON keys/indices).
pub fn collect_references(
    value: &Value,
    loc: &mut Vec<String>,
    out: &mut Vec<(Result<Reference, String>, Vec<String>)>,
) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(Value::String(g)) = map.get("Get") {
                    out.push((parse_get(g), loc.clone()));
                    return;
                }
            }
            for (k, v) in map {
                loc.push(k.clone());
                collect_references(v, loc, out);
                loc.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                loc.push(i.to_string());
                collect_references(v, loc, out);
                loc.pop();
            }
        }
        _ => {}
    }
}

/// Where values of references come from while a step's arguments are evaluated.
pub trait Scope {
    fn parameter(&self, name: &str) -> Option<Value>;
    fn execution_variable(&self, name: &str) -> Option<Value>;
    fn experiment_config(&self, field: &str) -> Option<Value>;
    /// The recorded properties document of a step (this run's, or the reference run's).
    fn step_properties(&self, step: &str) -> Result<Value, String>;
    /// The parsed JSON content of a step's property file.
    fn property_file(&self, step: &str, file: &str) -> Result<Value, String>;
    /// The parsed JSON content at an `s3://` (or local) URI.
    fn read_json_uri(&self, uri: &str) -> Result<Value, String>;
}

/// Follow `path` into `value`. A string key on a list selects the element whose
/// `OutputName`/`InputName`/`ChannelName`/`MetricName`/`Name` equals it, as the service does for
/// `ProcessingOutputConfig.Outputs['train']` and `FinalMetricDataList['validation:mse']`.
pub fn navigate(value: &Value, path: &[PathSeg]) -> Result<Value, String> {
    let mut cur = value;
    for (i, seg) in path.iter().enumerate() {
        let here = || render_path(&path[..i]);
        let next = match (seg, cur) {
            (PathSeg::Attr(k) | PathSeg::Key(k), Value::Object(m)) => m.get(k),
            (PathSeg::Key(k), Value::Array(items)) => items.iter().find(|item| {
                ["OutputName", "InputName", "ChannelName", "MetricName", "Name"]
                    .iter()
                    .any(|f| item.get(f).and_then(Value::as_str) == Some(k))
            }),
            (PathSeg::Index(ix), Value::Array(items)) => {
                let len = items.len() as i64;
                let real = if *ix < 0 { len + ix } else { *ix };
                if real < 0 || real >= len {
                    return Err(format!("index [{ix}] is out of range at '{}' (list of {len})", here()));
                }
                items.get(real as usize)
            }
            (seg, other) => {
                return Err(format!(
                    "cannot apply '{seg}' to {} at '{}'",
                    super::definition::kind_of(other),
                    if i == 0 { "<root>".to_string() } else { here() }
                ))
            }
        };
        match next {
            Some(v) => cur = v,
            None => {
                let keys = match cur {
                    Value::Object(m) => m.keys().map(String::as_str).collect::<Vec<_>>(),
                    _ => vec![],
                };
                let name = match seg {
                    PathSeg::Attr(k) | PathSeg::Key(k) => k.as_str(),
                    PathSeg::Index(_) => "",
                };
                return Err(format!(
                    "'{}' not found{}",
                    render_path(&path[..=i]),
                    super::error::did_you_mean(name, keys)
                ));
            }
        }
    }
    Ok(cur.clone())
}

/// Where a step's `PropertyFile` is: the JSON file at `FilePath` inside the processing output it
/// names, found through the step's recorded properties (`props`).
pub fn property_file_uri(pf: &super::definition::PropertyFileDef, props: &Value) -> Result<String, String> {
    let path = parse_path(&format!(
        "ProcessingOutputConfig.Outputs['{}'].S3Output.S3Uri",
        pf.output_name
    ))?;
    let base = navigate(props, &path).map_err(|e| format!("output '{}' {e}", pf.output_name))?;
    Ok(format!(
        "{}/{}",
        render_text(&base).trim_end_matches('/'),
        pf.file_path.trim_start_matches('/')
    ))
}

/// Evaluate every expression inside `value`; plain JSON passes through unchanged.
pub fn evaluate(value: &Value, scope: &dyn Scope) -> Result<Value, String> {
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (k, v) = map
                .iter()
                .next()
                .map(|(k, v)| (k.as_str(), v))
                .unwrap_or(("", &Value::Null));
            match (k, v) {
                ("Get", Value::String(g)) => resolve_get(g, scope),
                ("Std:Join", spec) => join(spec, scope),
                ("Std:JsonGet", spec) => json_get(spec, scope),
                _ => Ok(Value::Object(evaluate_map(map, scope)?)),
            }
        }
        Value::Object(map) => Ok(Value::Object(evaluate_map(map, scope)?)),
        Value::Array(items) => items
            .iter()
            .map(|v| evaluate(v, scope))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

fn evaluate_map(map: &Map<String, Value>, scope: &dyn Scope) -> Result<Map<String, Value>, String> {
    map.iter().map(|(k, v)| Ok((k.clone(), evaluate(v, scope)?))).collect()
}

fn resolve_get(g: &str, scope: &dyn Scope) -> Result<Value, String> {
    match parse_get(g)? {
        Reference::Parameter(p) => scope
            .parameter(&p)
            .ok_or_else(|| format!("Parameters.{p} is undefined")),
        Reference::Execution(v) => scope
            .execution_variable(&v)
            .ok_or_else(|| format!("Execution.{v} is undefined")),
        Reference::Experiment(f) => scope
            .experiment_config(&f)
            .ok_or_else(|| format!("PipelineExperimentConfig.{f} is undefined")),
        Reference::Step { step, path } => {
            let props = scope.step_properties(&step)?;
            navigate(&props, &path).map_err(|e| format!("Steps.{step}: {e}"))
        }
        Reference::PropertyFile { step, file } => Err(format!(
            "Steps.{step}.PropertyFiles.{file} can only be read through Std:JsonGet"
        )),
    }
}

/// The text of a value inside `Std:Join`: booleans as `true`/`false` (as the service renders
/// them), numbers in their shortest form, strings as they are.
pub fn render_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn join(spec: &Value, scope: &dyn Scope) -> Result<Value, String> {
    let on = match spec.get("On") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => render_text(&evaluate(other, scope)?),
    };
    let values = match spec.get("Values") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => return Ok(Value::String(String::new())),
        Some(other) => {
            return Err(format!(
                "Std:Join Values must be a list, found {}",
                super::definition::kind_of(other)
            ))
        }
    };
    let parts = values
        .iter()
        .map(|v| evaluate(v, scope).map(|x| render_text(&x)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::String(parts.join(&on)))
}

fn json_get(spec: &Value, scope: &dyn Scope) -> Result<Value, String> {
    let path_text = match spec.get("Path") {
        Some(Value::String(p)) => p.clone(),
        Some(other) => render_text(&evaluate(other, scope)?),
        None => return Err("Std:JsonGet has no Path".to_string()),
    };
    let doc = if let Some(pf) = spec.get("PropertyFile") {
        match pf {
            Value::Object(m) => match m.get("Get").and_then(Value::as_str).map(parse_get) {
                Some(Ok(Reference::PropertyFile { step, file })) => scope.property_file(&step, &file)?,
                _ => {
                    return Err(format!(
                    "Std:JsonGet PropertyFile must be {{\"Get\": \"Steps.<step>.PropertyFiles.<name>\"}}, found {pf}"
                ))
                }
            },
            other => return Err(format!("Std:JsonGet PropertyFile must be a reference, found {other}")),
        }
    } else if let Some(uri) = spec.get("S3Uri") {
        let uri = evaluate(uri, scope)?;
        scope.read_json_uri(&render_text(&uri))?
    } else {
        return Err("Std:JsonGet needs a PropertyFile or an S3Uri".to_string());
    };
    let path = parse_path(&path_text)?;
    navigate(&doc, &path).map_err(|e| format!("Std:JsonGet path '{path_text}': {e}"))
}

/// Evaluate one condition object of a ConditionStep.
pub fn evaluate_condition(cond: &Value, scope: &dyn Scope) -> Result<bool, String> {
    let kind = cond.get("Type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "Equals" | "GreaterThan" | "GreaterThanOrEqualTo" | "LessThan" | "LessThanOrEqualTo" => {
            let left = evaluate(cond.get("LeftValue").unwrap_or(&Value::Null), scope)?;
            let right = evaluate(cond.get("RightValue").unwrap_or(&Value::Null), scope)?;
            let ord = compare(&left, &right, kind)?;
            Ok(match kind {
                "Equals" => ord == Ordering::Equal,
                "GreaterThan" => ord == Ordering::Greater,
                "GreaterThanOrEqualTo" => ord != Ordering::Less,
                "LessThan" => ord == Ordering::Less,
                _ => ord != Ordering::Greater,
            })
        }
        "In" => {
            let q = evaluate(cond.get("QueryValue").unwrap_or(&Value::Null), scope)?;
            let values = match cond.get("Values") {
                Some(Value::Array(v)) => v,
                _ => return Err("In condition needs a list of Values".to_string()),
            };
            for v in values {
                let v = evaluate(v, scope)?;
                if compare(&q, &v, "In").ok() == Some(Ordering::Equal) {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        "Not" => Ok(!evaluate_condition(
            cond.get("Condition").unwrap_or(&Value::Null),
            scope,
        )?),
        "Or" => {
            let conds = match cond.get("Conditions") {
                Some(Value::Array(v)) => v,
                _ => return Err("Or condition needs a list of Conditions".to_string()),
            };
            for c in conds {
                if evaluate_condition(c, scope)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        other => Err(format!(
            "unknown condition type '{other}': expected one of Equals, GreaterThan, GreaterThanOrEqualTo, \
             LessThan, LessThanOrEqualTo, In, Not, Or"
        )),
    }
}

fn describe(v: &Value) -> String {
    format!("{} ({v})", super::definition::kind_of(v))
}

/// Compare two evaluated operands with the type rules of the service: numbers compare
/// numerically (Integer and Float mix), strings with strings, booleans only for equality.
pub fn compare(left: &Value, right: &Value, op: &str) -> Result<Ordering, String> {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => {
            if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                return Ok(x.cmp(&y));
            }
            let (x, y) = (a.as_f64().unwrap_or(f64::NAN), b.as_f64().unwrap_or(f64::NAN));
            x.partial_cmp(&y)
                .ok_or_else(|| format!("{op}: cannot compare {x} with {y}"))
        }
        (Value::String(a), Value::String(b)) => Ok(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) if op == "Equals" || op == "In" => {
            Ok(if a == b { Ordering::Equal } else { Ordering::Less })
        }
        (Value::Null, _) | (_, Value::Null) => Err(format!("{op}: an operand is undefined (null)")),
        _ => Err(format!(
            "{op}: cannot compare {} with {}; both sides must be numbers, strings, or (for Equals) booleans",
            describe(left),
            describe(right)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct S;
    impl Scope for S {
        fn parameter(&self, name: &str) -> Option<Value> {
            match name {
                "Lr" => Some(json!(0.5)),
                "Flag" => Some(json!(true)),
                "Name" => Some(json!("abc")),
                _ => None,
            }
        }
        fn execution_variable(&self, name: &str) -> Option<Value> {
            (name == "PipelineExecutionId").then(|| json!("abc123def456"))
        }
        fn experiment_config(&self, _f: &str) -> Option<Value> {
            None
        }
        fn step_properties(&self, step: &str) -> Result<Value, String> {
            match step {
                "P" => Ok(json!({"ProcessingOutputConfig": {"Outputs": [
                    {"OutputName": "train", "S3Output": {"S3Uri": "s3://b/train"}},
                    {"OutputName": "test", "S3Output": {"S3Uri": "s3://b/test"}}]}})),
                _ => Err(format!("no step {step}")),
            }
        }
        fn property_file(&self, _s: &str, _f: &str) -> Result<Value, String> {
            Ok(json!({"regression_metrics": {"mse": {"value": 4.2}}}))
        }
        fn read_json_uri(&self, _u: &str) -> Result<Value, String> {
            Ok(json!({"Result": [3, {"k": "v"}]}))
        }
    }

    #[test]
    fn parses_paths() {
        assert_eq!(
            parse_path("Outputs['train'].S3Output[0][\"k\"]").expect("ok"),
            vec![
                PathSeg::Attr("Outputs".into()),
                PathSeg::Key("train".into()),
                PathSeg::Attr("S3Output".into()),
                PathSeg::Index(0),
                PathSeg::Key("k".into())
            ]
        );
        assert!(parse_path("a[").is_err());
        assert!(parse_path("a[x]").is_err());
    }

    #[test]
    fn parses_gets() {
        assert_eq!(
            parse_get("Steps.Eval.PropertyFiles.Report").expect("ok"),
            Reference::PropertyFile {
                step: "Eval".into(),
                file: "Report".into()
            }
        );
        assert!(matches!(parse_get("Steps.A-b.X").expect("ok"), Reference::Step { step, .. } if step == "A-b"));
        assert!(parse_get("Foo.Bar").is_err());
    }

    #[test]
    fn evaluates_join_get_and_json_get() {
        let v = json!({"a": {"Std:Join": {"On": "/", "Values": [
            "s3:/", {"Get": "Execution.PipelineExecutionId"}, {"Get": "Parameters.Lr"}, {"Get": "Parameters.Flag"},
            {"Get": "Steps.P.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"}]}},
            "b": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.P.PropertyFiles.R"}, "Path": "regression_metrics.mse.value"}},
            "c": {"Std:JsonGet": {"S3Uri": "s3://x", "Path": "Result[1]['k']"}}});
        let out = evaluate(&v, &S).expect("evaluates");
        assert_eq!(out["a"], json!("s3://abc123def456/0.5/true/s3://b/test"));
        assert_eq!(out["b"], json!(4.2));
        assert_eq!(out["c"], json!("v"));
    }

    #[test]
    fn navigation_errors_suggest() {
        let e = evaluate(&json!({"Get": "Steps.P.ProcessingOutputConfg"}), &S).expect_err("fails");
        assert!(e.contains("did you mean 'ProcessingOutputConfig'"), "{e}");
    }

    #[test]
    fn conditions_follow_type_rules() {
        let c = json!({"Type": "LessThanOrEqualTo", "LeftValue": 5, "RightValue": 5.0});
        assert!(evaluate_condition(&c, &S).expect("ok"));
        let c = json!({"Type": "Or", "Conditions": [
            {"Type": "Equals", "LeftValue": {"Get": "Parameters.Flag"}, "RightValue": false},
            {"Type": "In", "QueryValue": {"Get": "Parameters.Name"}, "Values": ["x", "abc"]}]});
        assert!(evaluate_condition(&c, &S).expect("ok"));
        let c = json!({"Type": "Not", "Condition": {"Type": "GreaterThan", "LeftValue": 1, "RightValue": 2}});
        assert!(evaluate_condition(&c, &S).expect("ok"));
        let c = json!({"Type": "GreaterThan", "LeftValue": "a", "RightValue": 2});
        assert!(evaluate_condition(&c, &S)
            .expect_err("type error")
            .contains("cannot compare"));
        let c = json!({"Type": "GreaterThan", "LeftValue": true, "RightValue": false});
        assert!(evaluate_condition(&c, &S).is_err());
    }
}
