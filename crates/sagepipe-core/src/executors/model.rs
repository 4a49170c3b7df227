//! Model steps: CreateModel records a model in the store (what a TransformStep serves);
//! RegisterModel (CreateModelPackage) adds a version to a model package group of the local
//! registry. Properties are shaped like DescribeModel and DescribeModelPackage.

use serde_json::{json, Map, Value};

use super::{FailureKind, Outcome, StepContext, StepFailure, StepSuccess};
use crate::definition::FlatStep;
use crate::error::CoreError;
use crate::store::model_arn;
use crate::util;

/// Request fields a DescribeModel response repeats.
const MODEL_FIELDS: &[&str] = &[
    "PrimaryContainer",
    "Containers",
    "InferenceExecutionConfig",
    "ExecutionRoleArn",
    "VpcConfig",
    "EnableNetworkIsolation",
    "DeploymentRecommendation",
];

/// The generated model name: the job name with characters model names do not allow replaced.
fn model_name(job_name: &str) -> String {
    let mut name: String = job_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name.truncate(63);
    name.trim_matches('-').to_string()
}

fn store_failure(step: &str, e: CoreError) -> StepFailure {
    let kind = match e {
        CoreError::Validation(_) | CoreError::NotFound { .. } => FailureKind::Permanent,
        _ => FailureKind::Service,
    };
    StepFailure::new(format!("step '{step}': {e}"), kind)
}

pub fn create_model(step: &FlatStep, args: &Value, ctx: &StepContext) -> Outcome {
    let name = model_name(&ctx.job_name);
    let arn = model_arn(&name);
    let mut rec = Map::new();
    rec.insert("ModelName".into(), json!(name));
    rec.insert("ModelArn".into(), json!(arn));
    rec.insert("CreationTime".into(), json!(util::iso8601(util::now())));
    for k in MODEL_FIELDS {
        if let Some(v) = args.get(*k) {
            rec.insert((*k).to_string(), v.clone());
        }
    }
    let rec = Value::Object(rec);
    if rec.get("PrimaryContainer").is_none() && rec.get("Containers").is_none() {
        return Outcome::Failed(StepFailure::new(
            format!(
                "step '{}': CreateModel needs a PrimaryContainer or Containers",
                step.name()
            ),
            FailureKind::Permanent,
        ));
    }
    if let Err(e) = ctx.store.put_model(&rec) {
        return Outcome::Failed(store_failure(step.name(), e));
    }
    let mut metadata = Map::new();
    metadata.insert("Model".into(), json!({"Arn": arn}));
    Outcome::Succeeded(StepSuccess {
        properties: rec,
        metadata,
        artifacts: vec![],
        objects: vec![],
    })
}

pub fn register_model(step: &FlatStep, args: &Value, ctx: &StepContext) -> Outcome {
    match ctx.store.create_model_package(args) {
        Ok(mut rec) => {
            let arn = rec["ModelPackageArn"].clone();
            // Properties show times as the service's responses do, not as stored numbers.
            for k in ["CreationTime", "LastModifiedTime"] {
                if let Some(t) = rec.get(k).and_then(Value::as_f64) {
                    rec[k] = json!(util::iso8601(t));
                }
            }
            let mut metadata = Map::new();
            metadata.insert("RegisterModel".into(), json!({"Arn": arn}));
            Outcome::Succeeded(StepSuccess {
                properties: rec,
                metadata,
                artifacts: vec![],
                objects: vec![],
            })
        }
        Err(e) => Outcome::Failed(store_failure(step.name(), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_are_valid_service_names() {
        assert_eq!(model_name("pipelines-abc-My_Step-x1"), "pipelines-abc-My-Step-x1");
        assert!(model_name(&"a".repeat(80)).len() <= 63);
    }
}
