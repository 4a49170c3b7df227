//! Record types written to the store. Field names are the boto3 response keys, so the Python
//! layer can hand them out with only time conversion and internal fields removed.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

use crate::error::{CoreError, CoreResult};
use crate::util;

/// Record times are seconds since 1970: a value outside the years 1970 to 9999 (that no date
/// type can show) makes the record damaged, reported as such instead of crashing its readers.
mod epoch {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};

    /// 9999-12-31T23:59:59Z.
    const LAST: f64 = 253_402_300_799.0;

    fn check(t: f64) -> Result<f64, String> {
        if (0.0..=LAST).contains(&t) {
            Ok(t)
        } else {
            Err(format!(
                "time {t:e} is out of range: expected seconds since 1970, before the year 10000"
            ))
        }
    }

    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        check(f64::deserialize(d)?).map_err(D::Error::custom)
    }

    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<f64>::deserialize(d)?
            .map(check)
            .transpose()
            .map_err(D::Error::custom)
    }
}

/// The status of an execution, as the service spells it (records store these strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ExecutionStatus {
    #[default]
    Executing,
    Stopping,
    Stopped,
    Failed,
    Succeeded,
    CompletedWithFailures,
}

impl ExecutionStatus {
    pub const ALL: [ExecutionStatus; 6] = [
        ExecutionStatus::Executing,
        ExecutionStatus::Stopping,
        ExecutionStatus::Stopped,
        ExecutionStatus::Failed,
        ExecutionStatus::Succeeded,
        ExecutionStatus::CompletedWithFailures,
    ];

    /// Whether the execution has ended: nothing changes after these.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ExecutionStatus::Stopped
                | ExecutionStatus::Failed
                | ExecutionStatus::Succeeded
                | ExecutionStatus::CompletedWithFailures
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Executing => "Executing",
            ExecutionStatus::Stopping => "Stopping",
            ExecutionStatus::Stopped => "Stopped",
            ExecutionStatus::Failed => "Failed",
            ExecutionStatus::Succeeded => "Succeeded",
            ExecutionStatus::CompletedWithFailures => "CompletedWithFailures",
        }
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status of a step, as the service spells it (records store these strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum StepStatus {
    Starting,
    #[default]
    Executing,
    Stopping,
    Stopped,
    Failed,
    Succeeded,
}

impl StepStatus {
    /// Whether the step has ended.
    pub fn is_terminal(self) -> bool {
        matches!(self, StepStatus::Stopped | StepStatus::Failed | StepStatus::Succeeded)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Starting => "Starting",
            StepStatus::Executing => "Executing",
            StepStatus::Stopping => "Stopping",
            StepStatus::Stopped => "Stopped",
            StepStatus::Failed => "Failed",
            StepStatus::Succeeded => "Succeeded",
        }
    }
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PipelineRecord {
    pub pipeline_name: String,
    pub pipeline_arn: String,
    #[serde(default)]
    pub pipeline_display_name: Option<String>,
    #[serde(default)]
    pub pipeline_description: Option<String>,
    #[serde(default)]
    pub role_arn: Option<String>,
    pub pipeline_status: String,
    #[serde(deserialize_with = "epoch::required")]
    pub creation_time: f64,
    #[serde(deserialize_with = "epoch::required")]
    pub last_modified_time: f64,
    #[serde(default, deserialize_with = "epoch::optional")]
    pub last_run_time: Option<f64>,
    #[serde(default)]
    pub parallelism_configuration: Option<Value>,
    #[serde(default)]
    pub tags: Vec<Value>,
    pub latest_version: u64,
}

impl PipelineRecord {
    pub fn new(name: &str, t: f64) -> Self {
        PipelineRecord {
            pipeline_name: name.to_string(),
            pipeline_arn: util::pipeline_arn(name),
            pipeline_display_name: Some(name.to_string()),
            pipeline_description: None,
            role_arn: None,
            pipeline_status: "Active".into(),
            creation_time: t,
            last_modified_time: t,
            last_run_time: None,
            parallelism_configuration: None,
            tags: vec![],
            latest_version: 0,
        }
    }

    /// Apply the optional fields of a create/update request (`RoleArn`, `PipelineDescription`,
    /// `PipelineDisplayName`, `ParallelismConfiguration`, `Tags`); absent keys keep old values.
    pub fn apply_fields(&mut self, fields: &Value) {
        let s = |k: &str| fields.get(k).and_then(Value::as_str).map(str::to_string);
        if let Some(v) = s("RoleArn") {
            self.role_arn = Some(v);
        }
        if let Some(v) = s("PipelineDescription") {
            self.pipeline_description = Some(v);
        }
        if let Some(v) = s("PipelineDisplayName") {
            self.pipeline_display_name = Some(v);
        }
        if let Some(v) = fields.get("ParallelismConfiguration").filter(|v| !v.is_null()) {
            self.parallelism_configuration = Some(v.clone());
        }
        if let Some(Value::Array(tags)) = fields.get("Tags") {
            for t in tags {
                let key = t.get("Key");
                self.tags.retain(|old| old.get("Key") != key);
                self.tags.push(t.clone());
            }
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecutionRecord {
    pub pipeline_name: String,
    pub pipeline_arn: String,
    pub pipeline_execution_arn: String,
    pub execution_id: String,
    pub pipeline_execution_status: ExecutionStatus,
    #[serde(default)]
    pub pipeline_execution_display_name: Option<String>,
    #[serde(default)]
    pub pipeline_execution_description: Option<String>,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(deserialize_with = "epoch::required")]
    pub creation_time: f64,
    #[serde(deserialize_with = "epoch::required")]
    pub last_modified_time: f64,
    #[serde(default, deserialize_with = "epoch::optional")]
    pub end_time: Option<f64>,
    #[serde(default)]
    pub parallelism_configuration: Option<Value>,
    #[serde(default)]
    pub selective_execution_config: Option<Value>,
    pub pipeline_version_id: u64,
    /// Effective typed parameter values (given over defaults).
    pub parameters: Map<String, Value>,
    #[serde(default)]
    pub pipeline_experiment_config: Option<Value>,
    pub owner_pid: u32,
    #[serde(default)]
    pub client_request_token: Option<String>,
}

/// A file or directory a step produced, with what is needed to check it later without reading
/// it again: size and mtime (cheap), and a content hash (taken once, when it was produced).
/// An inline artifact was kept in the store's database (`Store::locate_artifact`); its mtime
/// is 0 until it becomes a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ArtifactRecord {
    pub uri: String,
    pub size: u64,
    pub mtime_ns: i128,
    pub sha256: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inline: bool,
}

/// A step's inputs in a form two runs can compare (computed by `signature`; see there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Signature {
    /// The resolved arguments, normalised (see the module docs).
    pub arguments: Value,
    /// What each code artifact is ("script preprocess.py") and its content hash.
    #[serde(default)]
    pub code: BTreeMap<String, String>,
    /// SHA-256 of the step type's cache-key fields of `arguments`.
    pub cache_key: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepRecord {
    pub step_name: String,
    pub step_type: String,
    #[serde(default)]
    pub step_display_name: Option<String>,
    #[serde(default)]
    pub step_description: Option<String>,
    #[serde(default, deserialize_with = "epoch::optional")]
    pub start_time: Option<f64>,
    #[serde(default, deserialize_with = "epoch::optional")]
    pub end_time: Option<f64>,
    pub step_status: StepStatus,
    #[serde(default)]
    pub attempt_count: u32,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    #[serde(default)]
    pub cache_hit_result: Option<Value>,
    #[serde(default)]
    pub selective_execution_result: Option<Value>,
    /// The step's Describe*-shaped properties, read by `Get Steps.<name>...`.
    #[serde(default)]
    pub properties: Option<Value>,
    #[serde(default)]
    pub artifacts: Vec<ArtifactRecord>,
    /// For a function step that raised: exception type, message and traceback.
    #[serde(default)]
    pub error: Option<Value>,
    /// Start order within the execution.
    pub seq: u64,
    /// The step's inputs, normalised: compared by the cache and by changed-step selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signature>,
    /// Why caching did not reuse an earlier run, when caching was on and missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_miss_reason: Option<String>,
    /// Where a `@step` function step whose arguments resolved puts its results (the pickled
    /// return value, or the exception it raised): what `execution.result()` reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_results_uri: Option<String>,
}

impl StepRecord {
    /// A ConditionStep's recorded outcome.
    pub fn outcome(&self) -> Option<bool> {
        self.properties.as_ref()?.get("Outcome")?.as_bool()
    }
}

/// `MaxParallelExecutionSteps` of a `ParallelismConfiguration` as the service accepts it: an
/// object `{"MaxParallelExecutionSteps": n}` with an integer n of at least 1.
pub fn max_parallel_execution_steps(config: &Value) -> CoreResult<u64> {
    let steps = config.as_object().and_then(|c| c.get("MaxParallelExecutionSteps"));
    match steps.and_then(Value::as_u64) {
        Some(n) if n >= 1 => Ok(n),
        _ => Err(CoreError::Validation(format!(
            "ParallelismConfiguration: expected {{\"MaxParallelExecutionSteps\": an integer of at least 1}}, found {}",
            util::shorten(&config.to_string())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_out_of_range_makes_a_record_damaged() {
        let good = ExecutionRecord {
            creation_time: 1.7e9,
            last_modified_time: 1.7e9,
            ..ExecutionRecord::default()
        };
        let mut value = serde_json::to_value(&good).expect("json");
        assert!(serde_json::from_value::<ExecutionRecord>(value.clone()).is_ok());
        for bad in [
            serde_json::json!(1e300),
            serde_json::json!(-5.0),
            serde_json::json!(253_402_300_800.0),
        ] {
            value["CreationTime"] = bad.clone();
            let err = serde_json::from_value::<ExecutionRecord>(value.clone()).expect_err("damaged");
            assert!(err.to_string().contains("out of range"), "{err}");
        }
        let step =
            serde_json::json!({"StepName": "s", "StepType": "Fail", "StepStatus": "Failed", "Seq": 0, "EndTime": 1e19});
        assert!(serde_json::from_value::<StepRecord>(step).is_err());
        let step =
            serde_json::json!({"StepName": "s", "StepType": "Fail", "StepStatus": "Failed", "Seq": 0, "EndTime": null});
        assert!(serde_json::from_value::<StepRecord>(step).is_ok());
    }
}
