//! Step caching as SageMaker does it: a step with `CacheConfig.Enabled` reuses the most recent
//! successful run of the same step of the same pipeline whose cache key matches (the step type's
//! key fields plus the content of the code it runs), unless it is older than `ExpireAfter`.
//!
//! The index lives in the store, one small record per key (`cache/<pipeline>/keys/<key>.json`,
//! latest run wins) and one per step with the latest signature (to explain a miss). Both are
//! replaced in one transaction, so concurrent runs never see a torn entry.

use serde::{Deserialize, Serialize};

use crate::definition::FlatStep;
use crate::duration::parse_duration;
use crate::error::CoreResult;
use crate::selection;
use crate::signature;
use crate::store::{Signature, StepRecord, StepStatus, Store};
use crate::util;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CacheEntry {
    pipeline_execution_arn: String,
    step_name: String,
    end_time: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signature: Option<Signature>,
}

pub enum Lookup {
    /// An earlier successful run to reuse: its execution ARN and its step record.
    Hit { arn: String, record: Box<StepRecord> },
    /// No usable earlier run, and why.
    Miss(String),
}

fn key_record(key: &str) -> String {
    format!("keys/{key}.json")
}

fn latest_record(step: &str) -> String {
    format!("steps/{step}.json")
}

/// Whether caching is on for `step`, and its expiry in seconds (`None`: never expires).
pub fn policy(step: &FlatStep) -> Option<Option<f64>> {
    let cc = step.def.cache_config.as_ref().filter(|c| c.enabled)?;
    Some(cc.expire_after.as_deref().and_then(|e| parse_duration(e).ok()))
}

/// Find an earlier run of `step` with the same cache key, `now` being the current time.
pub fn lookup(store: &Store, pipeline: &str, step: &FlatStep, sig: &Signature, now: f64) -> Lookup {
    let Some(expiry) = policy(step) else {
        return Lookup::Miss("caching is off".into());
    };
    let name = step.name();
    let entry: Option<CacheEntry> = store
        .read_cache_record(pipeline, &key_record(&sig.cache_key))
        .ok()
        .flatten();
    let Some(entry) = entry else {
        return Lookup::Miss(explain_miss(store, pipeline, step, sig));
    };
    if let Some(seconds) = expiry {
        if now - entry.end_time > seconds {
            return Lookup::Miss(format!(
                "the latest run with the same cache key ({}, ended {}) is older than ExpireAfter",
                entry.pipeline_execution_arn,
                util::iso8601(entry.end_time)
            ));
        }
    }
    let record = store.load_step(&entry.pipeline_execution_arn, name).ok().flatten();
    let Some(record) = record.filter(|r| r.step_status == StepStatus::Succeeded) else {
        return Lookup::Miss(format!(
            "the cached run {} no longer has a successful record of step '{name}' (deleted?)",
            entry.pipeline_execution_arn
        ));
    };
    if let Some(p) = selection::artifact_problems(name, &record.artifacts, |a| store.locate_artifact(a))
        .into_iter()
        .next()
    {
        return Lookup::Miss(format!("the cached run's outputs cannot be reused: {}", p.msg));
    }
    Lookup::Hit {
        arn: entry.pipeline_execution_arn,
        record: Box::new(record),
    }
}

/// Which key field or code changed since the step's latest successful cached run.
fn explain_miss(store: &Store, pipeline: &str, step: &FlatStep, sig: &Signature) -> String {
    let latest: Option<CacheEntry> = store
        .read_cache_record(pipeline, &latest_record(step.name()))
        .ok()
        .flatten();
    let Some(old) = latest.and_then(|l| l.signature.map(|s| (l.pipeline_execution_arn, s))) else {
        return "no earlier successful run of this step with caching on".into();
    };
    let (arn, old) = old;
    let diffs = signature::key_differences(&step.def.step_type, &old, sig);
    if diffs.is_empty() {
        format!("cache key differs from the latest cached run {arn}")
    } else {
        format!("since {arn}: {}", diffs.join("; "))
    }
}

/// Record a successful run of a cached step as the latest for its key (and for the step).
pub fn record(store: &Store, pipeline: &str, step: &str, arn: &str, end_time: f64, sig: &Signature) -> CoreResult<()> {
    let entry = CacheEntry {
        pipeline_execution_arn: arn.to_string(),
        step_name: step.to_string(),
        end_time,
        signature: None,
    };
    let latest = CacheEntry {
        signature: Some(sig.clone()),
        ..entry.clone()
    };
    store.write_cache_records(
        pipeline,
        &[(key_record(&sig.cache_key), entry), (latest_record(step), latest)],
        |old: &CacheEntry| old.end_time <= end_time,
    )
}
