//! The values references resolve to while one step of a run is evaluated.

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::Read;

use super::scheduler::Run;
use crate::expr::{property_file_uri, Scope};
use crate::store::{files, Store};
use crate::util;
use crate::validate::CompiledPipeline;

/// Largest JSON document `Std:JsonGet` will read (property files are small reports).
const MAX_JSON_BYTES: u64 = 64 * 1024 * 1024;

pub struct RunScope<'a> {
    pub run: &'a Run,
    pub job_name: &'a str,
}

impl Scope for RunScope<'_> {
    fn parameter(&self, name: &str) -> Option<Value> {
        self.run.record_parameters().get(name).cloned()
    }

    fn execution_variable(&self, name: &str) -> Option<Value> {
        let r = &self.run;
        match name {
            "PipelineExecutionId" => Some(json!(r.execution_id())),
            "PipelineExecutionArn" => Some(json!(r.execution_arn())),
            "PipelineName" => Some(json!(r.pipeline_name())),
            "PipelineArn" => Some(json!(util::pipeline_arn(r.pipeline_name()))),
            "StartDateTime" => Some(json!(util::iso8601(r.start_time()))),
            "CurrentDateTime" => Some(json!(util::iso8601(util::now()))),
            "TrainingJobName" | "ProcessingJobName" => Some(json!(self.job_name)),
            _ => None,
        }
    }

    fn experiment_config(&self, field: &str) -> Option<Value> {
        let cfg = self.run.compiled().definition.pipeline_experiment_config.clone()?;
        let v = cfg.get(field)?.clone();
        crate::expr::evaluate(&v, self).ok()
    }

    fn step_properties(&self, step: &str) -> Result<Value, String> {
        self.run.properties_of(step)
    }

    fn property_file(&self, step: &str, file: &str) -> Result<Value, String> {
        property_file(self.run.compiled(), self.run.store(), step, file, &|s| {
            self.step_properties(s)
        })
    }

    fn read_json_uri(&self, uri: &str) -> Result<Value, String> {
        read_json_uri(self.run.store(), uri)
    }
}

/// The parsed content of a step's `PropertyFile`: the JSON file at `FilePath` inside the
/// processing output it names, found through the step's recorded properties.
pub fn property_file(
    compiled: &CompiledPipeline,
    store: &Store,
    step: &str,
    file: &str,
    properties: &dyn Fn(&str) -> Result<Value, String>,
) -> Result<Value, String> {
    let s = compiled.step(step).ok_or_else(|| format!("no step '{step}'"))?;
    let pf = s
        .def
        .property_files
        .iter()
        .find(|p| p.property_file_name == file)
        .ok_or_else(|| format!("step '{step}' declares no property file '{file}'"))?;
    let uri = property_file_uri(pf, &properties(step)?)
        .map_err(|e| format!("property file '{file}' of step '{step}': {e}"))?;
    read_json_uri(store, &uri).map_err(|e| format!("property file '{file}' of step '{step}': {e}"))
}

/// The parsed JSON content at an `s3://` (or local) URI, size-capped.
pub fn read_json_uri(store: &Store, uri: &str) -> Result<Value, String> {
    // A @step's results.json is usually kept inline (never larger than the cap below).
    if let Some(bytes) = store.inline_object(uri).map_err(|e| e.to_string())? {
        return serde_json::from_slice(&bytes).map_err(|e| format!("{uri} is not valid JSON: {e}"));
    }
    // Never through a symlink in the store, never blocking on a FIFO (a job's output may hold one).
    let (path, follow) = store.read_path(uri)?;
    let file =
        files::open_regular(&path, follow).map_err(|e| format!("cannot read {uri} ({}): {e}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > MAX_JSON_BYTES {
        return Err(format!(
            "{uri} is {size} bytes; JSON files read by Std:JsonGet may be at most {MAX_JSON_BYTES} bytes"
        ));
    }
    let mut text = String::new();
    file.take(MAX_JSON_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read {uri}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{uri} is not valid JSON: {e}"))
}

/// What a step would see in a run that has not started: the new parameters, and the recorded
/// properties of the steps it would reuse (from a reference run or the cache).
pub struct PlanScope<'a> {
    pub compiled: &'a CompiledPipeline,
    pub store: &'a Store,
    pub parameters: &'a Map<String, Value>,
    pub properties: &'a HashMap<String, Value>,
}

impl Scope for PlanScope<'_> {
    fn parameter(&self, name: &str) -> Option<Value> {
        self.parameters.get(name).cloned()
    }

    fn execution_variable(&self, name: &str) -> Option<Value> {
        let pipeline = &self.compiled.name;
        match name {
            "PipelineName" => Some(json!(pipeline)),
            "PipelineArn" => Some(json!(util::pipeline_arn(pipeline))),
            "StartDateTime" | "CurrentDateTime" => Some(json!(util::iso8601(util::now()))),
            // The run's own id and job names are normalised by `NormalizingScope`.
            _ => None,
        }
    }

    fn experiment_config(&self, field: &str) -> Option<Value> {
        let cfg = self.compiled.definition.pipeline_experiment_config.clone()?;
        crate::expr::evaluate(cfg.get(field)?, self).ok()
    }

    fn step_properties(&self, step: &str) -> Result<Value, String> {
        self.properties
            .get(step)
            .cloned()
            .ok_or_else(|| format!("step '{step}' runs in this execution, so its properties are not known yet"))
    }

    fn property_file(&self, step: &str, file: &str) -> Result<Value, String> {
        property_file(self.compiled, self.store, step, file, &|s| self.step_properties(s))
    }

    fn read_json_uri(&self, uri: &str) -> Result<Value, String> {
        read_json_uri(self.store, uri)
    }
}
