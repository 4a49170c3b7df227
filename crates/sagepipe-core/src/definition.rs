//! Serde model of the SageMaker pipeline definition JSON (Version 2020-12-01), flattened so that
//! condition-branch steps are ordinary steps with a parent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::{CoreError, CoreResult, Problem};

pub const DEFINITION_VERSION: &str = "2020-12-01";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParameterType {
    String,
    Integer,
    Float,
    Boolean,
}

impl ParameterType {
    pub fn as_str(self) -> &'static str {
        match self {
            ParameterType::String => "String",
            ParameterType::Integer => "Integer",
            ParameterType::Float => "Float",
            ParameterType::Boolean => "Boolean",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParameterDef {
    pub name: String,
    #[serde(rename = "Type")]
    pub parameter_type: ParameterType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enum_values: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicyDef {
    #[serde(default)]
    pub exception_type: Vec<String>,
    #[serde(default = "default_backoff")]
    pub backoff_rate: f64,
    #[serde(default = "default_interval")]
    pub interval_seconds: f64,
    #[serde(default)]
    pub max_attempts: Option<i64>,
    #[serde(default)]
    pub expire_after_min: Option<i64>,
}

fn default_backoff() -> f64 {
    2.0
}
fn default_interval() -> f64 {
    1.0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheConfigDef {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub expire_after: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PropertyFileDef {
    pub property_file_name: String,
    pub output_name: String,
    pub file_path: String,
}

/// One step object as it appears in `Steps`, `IfSteps` or `ElseSteps`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepDef {
    pub name: String,
    #[serde(rename = "Type")]
    pub step_type: String,
    #[serde(default)]
    pub arguments: Value,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub retry_policies: Vec<RetryPolicyDef>,
    #[serde(default)]
    pub cache_config: Option<CacheConfigDef>,
    #[serde(default)]
    pub property_files: Vec<PropertyFileDef>,
    /// Type-specific top-level keys (Lambda `FunctionArn`, `OutputParameters`, Callback `SqsQueueUrl`...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Definition {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub parameters: Vec<ParameterDef>,
    #[serde(default)]
    pub pipeline_experiment_config: Option<Value>,
    #[serde(default)]
    pub steps: Vec<StepDef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Branch {
    If,
    Else,
}

impl Branch {
    /// Whether a ConditionStep with this outcome runs this branch.
    pub fn taken(self, outcome: bool) -> bool {
        (self == Branch::If) == outcome
    }
}

/// A step with its place in the definition: top level, or inside a condition's branch.
#[derive(Debug, Clone)]
pub struct FlatStep {
    pub def: StepDef,
    /// Index (into the flat list) of the ConditionStep holding this step, and which branch.
    pub parent: Option<(usize, Branch)>,
    /// Location of the step object inside the definition, for error messages.
    pub loc: Vec<String>,
}

impl FlatStep {
    pub fn name(&self) -> &str {
        &self.def.name
    }
    pub fn is_type(&self, t: &str) -> bool {
        self.def.step_type == t
    }
    /// The part of the arguments that can reference other steps, and its key: for a
    /// ConditionStep only its conditions (branch steps are children, not inputs).
    pub fn input_arguments(&self) -> (&Value, &'static str) {
        if self.is_type("Condition") {
            (
                self.def.arguments.get("Conditions").unwrap_or(&Value::Null),
                "Conditions",
            )
        } else {
            (&self.def.arguments, "Arguments")
        }
    }
}

/// Parse definition JSON text. Syntax errors and shape errors become a `Definition` error
/// naming the exact location.
pub fn parse(text: &str, pipeline: &str) -> CoreResult<Definition> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let msg = if e.to_string().contains("recursion limit exceeded") {
            format!(
                "definition JSON is nested deeper than the parser's limit of 128 levels (at line {}, column {})",
                e.line(),
                e.column()
            )
        } else {
            format!("definition is not valid JSON: {e}")
        };
        CoreError::Definition {
            pipeline: pipeline.to_string(),
            problems: vec![Problem::new("malformed_json", vec![], msg)],
        }
    })?;
    from_value(value, pipeline)
}

/// Turn a JSON value into a `Definition`, reporting every shape problem found (per step, so one
/// broken step does not hide the others).
pub fn from_value(value: Value, pipeline: &str) -> CoreResult<Definition> {
    let mut problems = Vec::new();
    let Value::Object(mut top) = value else {
        return Err(CoreError::Definition {
            pipeline: pipeline.to_string(),
            problems: vec![Problem::new(
                "invalid_shape",
                vec![],
                format!("expected a JSON object at the top level, found {}", kind_of(&value)),
            )],
        });
    };
    let steps_value = top.remove("Steps").unwrap_or(Value::Array(vec![]));
    let params_value = top.remove("Parameters").unwrap_or(Value::Array(vec![]));
    let mut def: Definition = match serde_path_to_error::deserialize::<_, Definition>(Value::Object(top)) {
        Ok(d) => d,
        Err(e) => {
            let field = e.path().to_string();
            problems.push(Problem::new(
                "invalid_shape",
                vec![field.clone()],
                format!("{field}: {}", e.inner()),
            ));
            Definition {
                version: None,
                metadata: None,
                parameters: vec![],
                pipeline_experiment_config: None,
                steps: vec![],
            }
        }
    };
    match params_value {
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                let label = item
                    .get("Name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| i.to_string());
                match serde_path_to_error::deserialize::<_, ParameterDef>(item) {
                    Ok(p) => def.parameters.push(p),
                    Err(e) => {
                        let field = e.path().to_string();
                        problems.push(Problem::new(
                            "invalid_shape",
                            vec!["Parameters".into(), label, field.clone()],
                            format!("parameter field {field}: {}", e.inner()),
                        ))
                    }
                }
            }
        }
        other => problems.push(Problem::new(
            "invalid_shape",
            vec!["Parameters".into()],
            format!("expected a list, found {}", kind_of(&other)),
        )),
    }
    match steps_value {
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                if let Some(s) = parse_step(item, vec!["Steps".into(), format!("{i}")], &mut problems) {
                    def.steps.push(s);
                }
            }
        }
        other => problems.push(Problem::new(
            "invalid_shape",
            vec!["Steps".into()],
            format!("expected a list of steps, found {}", kind_of(&other)),
        )),
    }
    if problems.is_empty() {
        Ok(def)
    } else {
        Err(CoreError::Definition {
            pipeline: pipeline.to_string(),
            problems,
        })
    }
}

fn parse_step(item: Value, loc: Vec<String>, problems: &mut Vec<Problem>) -> Option<StepDef> {
    // Name the step by its name when it has one (as every other problem does), else by index.
    let mut loc = loc;
    if let Some(name) = item.get("Name").and_then(Value::as_str) {
        loc.pop();
        loc.push(name.to_string());
    }
    match serde_path_to_error::deserialize::<_, StepDef>(item) {
        Ok(s) => Some(s),
        Err(e) => {
            let field = e.path().to_string();
            loc.push(field.clone());
            problems.push(Problem::new(
                "invalid_shape",
                loc,
                format!("step field {field}: {}", e.inner()),
            ));
            None
        }
    }
}

pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Flatten top-level and (recursively) branch steps into one list; branch steps keep a link to
/// their ConditionStep. Branch lists that are not lists of steps are reported.
pub fn flatten(steps: Vec<StepDef>, problems: &mut Vec<Problem>) -> Vec<FlatStep> {
    let mut out = Vec::with_capacity(steps.len());
    for s in steps {
        let loc = vec!["Steps".into(), s.name.clone()];
        push_flat(s, None, loc, &mut out, problems);
    }
    out
}

fn push_flat(
    def: StepDef,
    parent: Option<(usize, Branch)>,
    loc: Vec<String>,
    out: &mut Vec<FlatStep>,
    problems: &mut Vec<Problem>,
) {
    let idx = out.len();
    // Copied before the step moves into the list: only a condition's branch lists.
    let branches: Vec<(Branch, &str, Option<Value>)> = if def.step_type == "Condition" {
        [(Branch::If, "IfSteps"), (Branch::Else, "ElseSteps")]
            .into_iter()
            .map(|(branch, key)| (branch, key, def.arguments.get(key).cloned()))
            .collect()
    } else {
        vec![]
    };
    out.push(FlatStep {
        def,
        parent,
        loc: loc.clone(),
    });
    for (branch, key, list) in branches {
        match list {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (j, item) in items.into_iter().enumerate() {
                    let mut child_loc = loc.clone();
                    child_loc.extend(["Arguments".to_string(), key.to_string(), format!("{j}")]);
                    if let Some(step) = parse_step(item, child_loc.clone(), problems) {
                        child_loc.pop();
                        child_loc.push(step.name.clone());
                        push_flat(step, Some((idx, branch)), child_loc, out, problems);
                    }
                }
            }
            Some(other) => {
                let mut l = loc.clone();
                l.extend(["Arguments".to_string(), key.to_string()]);
                problems.push(Problem::new(
                    "invalid_shape",
                    l,
                    format!("expected a list of steps, found {}", kind_of(&other)),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_flattens_branches() {
        let text = r#"{"Version":"2020-12-01","Parameters":[{"Name":"A","Type":"Float","DefaultValue":1.5}],
          "Steps":[{"Name":"C","Type":"Condition","Arguments":{"Conditions":[],
             "IfSteps":[{"Name":"X","Type":"Fail","Arguments":{"ErrorMessage":"x"}}],
             "ElseSteps":[{"Name":"Y","Type":"Lambda","Arguments":{},"FunctionArn":"arn"}]}}]}"#;
        let def = parse(text, "p").expect("parses");
        let mut problems = vec![];
        let flat = flatten(def.steps, &mut problems);
        assert!(problems.is_empty());
        let names: Vec<_> = flat.iter().map(|s| s.name().to_string()).collect();
        assert_eq!(names, ["C", "X", "Y"]);
        assert_eq!(flat[2].parent, Some((0, Branch::Else)));
        assert_eq!(flat[2].def.extra.get("FunctionArn"), Some(&Value::String("arn".into())));
    }

    #[test]
    fn malformed_json_reports_position() {
        let err = parse("{\"Steps\": [", "p").expect_err("must fail");
        assert_eq!(err.problems()[0].kind, "malformed_json");
        assert!(err.to_string().contains("line 1"));
    }

    #[test]
    fn every_broken_step_is_reported() {
        let text = r#"{"Steps":[{"Name":"A"},{"Type":"Fail"},{"Name":"C","Type":"Fail"}],
                       "Parameters":[{"Name":"P","Type":"Str"}]}"#;
        let err = parse(text, "p").expect_err("must fail");
        assert_eq!(err.problems().len(), 3, "{err}");
    }
}
