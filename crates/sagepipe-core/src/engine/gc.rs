//! gc's plan: which executions and artifacts a collection deletes, and why the rest stays.
//! The rules are those of `python/sagepipe/_gc.py` (its module docstring says what is kept and
//! why); this is where they are computed, in one pass over the store's records, so a history
//! of thousands of executions is planned in well under a second.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::recovery;
use crate::error::{CoreError, CoreResult};
use crate::store::{ExecutionRecord, StepRecord, Store, UnreadableRecord};
use crate::util;

/// Keys of Describe*Job properties whose value is a place a step read or produced (data
/// channels, processing inputs and outputs, checkpoints, model data, script-mode code). Other
/// locations in properties (S3OutputPath bases, container arguments) are only named.
const USED_PLACE_KEYS: [&str; 4] = [
    "S3Uri",
    "ModelDataUrl",
    "S3ModelArtifacts",
    "sagemaker_submit_directory",
];

/// What to collect (the arguments of `sagepipe gc`).
#[derive(Debug, Clone, Default)]
pub struct GcRequest {
    /// How many of the newest executions of each pipeline to keep.
    pub keep: usize,
    /// Only executions created before this (seconds since the epoch) may be deleted.
    pub older_than: Option<f64>,
    /// Only these pipelines (None: all).
    pub pipelines: Option<Vec<String>>,
}

/// What a collection keeps and deletes.
#[derive(Debug, Clone, Serialize)]
pub struct GcPlan {
    /// Execution ARN and why it is kept, in the order the reasons were found.
    pub keep: Vec<(String, String)>,
    /// Execution ARNs to delete, oldest first.
    pub delete: Vec<String>,
    /// Artifact URIs only deleted executions produced, safe to delete.
    pub artifacts: Vec<String>,
    /// Artifact URI of a deleted execution and why it stays.
    pub kept_artifacts: Vec<(String, String)>,
    /// Records that cannot be read (left in place), by path.
    pub unreadable: Vec<UnreadableRecord>,
    /// The store's records state when the plan began reading (`Store::records_state`): the
    /// same state later means the same plan.
    pub state: Option<(u64, i64, u64)>,
    /// Records a listing would have warned about (unreadable pipeline and execution records).
    #[serde(skip)]
    pub warnings: Vec<UnreadableRecord>,
}

/// The execution a reuse record (`SelectiveExecutionConfig`, `SelectiveExecutionResult`,
/// `CacheHitResult`) names as its source.
fn source(v: Option<&Value>) -> Option<String> {
    v.and_then(|v| v.get("SourcePipelineExecutionArn"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// What the plan keeps of a step record of every execution: the full records are read again
/// only for the executions that stay.
struct StepSummary {
    seq: u64,
    artifacts: Vec<String>,
    /// The executions whose outputs the step reused.
    sources: Vec<String>,
}

impl StepSummary {
    fn of(step: &StepRecord) -> Self {
        StepSummary {
            seq: step.seq,
            artifacts: step.artifacts.iter().map(|a| a.uri.clone()).collect(),
            sources: reused_from(&step.selective_execution_result, &step.cache_hit_result),
        }
    }
}

/// The executions a step's reuse results (selective, cache hit) name.
fn reused_from(selective: &Option<Value>, cache_hit: &Option<Value>) -> Vec<String> {
    [selective, cache_hit]
        .into_iter()
        .filter_map(|v| source(v.as_ref()))
        .collect()
}

/// The fields of a step record (`StepRecord`, same names) that a `StepSummary` is made of,
/// decoded straight from the record's text. The rest (mostly a `@step` request, kept as
/// `Properties` and in `Signature`) is only checked to be well-formed JSON: building it into
/// values was most of the plan's time on a long history.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StepRefs {
    seq: u64,
    #[serde(default)]
    artifacts: Vec<ArtifactUri>,
    #[serde(default)]
    cache_hit_result: Option<Value>,
    #[serde(default)]
    selective_execution_result: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArtifactUri {
    uri: String,
}

impl From<StepRefs> for StepSummary {
    fn from(step: StepRefs) -> Self {
        StepSummary {
            seq: step.seq,
            artifacts: step.artifacts.into_iter().map(|a| a.uri).collect(),
            sources: reused_from(&step.selective_execution_result, &step.cache_hit_result),
        }
    }
}

/// The executions whose outputs an execution reuses.
fn sources(rec: Option<&ExecutionRecord>, steps: &[StepSummary]) -> Vec<String> {
    let mut found: Vec<String> = rec
        .and_then(|r| source(r.selective_execution_config.as_ref()))
        .into_iter()
        .collect();
    for step in steps {
        found.extend(step.sources.iter().cloned());
    }
    found
}

/// The `s3://` locations in `text`: `s3://` and what follows up to whitespace, a quote or a
/// backslash. `escaped`: `text` is a string as it appears inside JSON text written with only
/// ASCII (so a location also ends at any other character, which would be an escape there).
fn s3_uris(text: &str, escaped: bool) -> Vec<&str> {
    let allowed = |c: char| {
        if escaped {
            c.is_ascii_graphic() && c != '"' && c != '\\'
        } else {
            !(c.is_whitespace() || ('\x1c'..='\x1f').contains(&c) || c == '"' || c == '\\')
        }
    };
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("s3://") {
        let start = from + at;
        let body = start + "s3://".len();
        let end = text[body..]
            .char_indices()
            .find(|&(_, c)| !allowed(c))
            .map_or(text.len(), |(i, _)| body + i);
        if end > body {
            out.push(&text[start..end]);
            from = end;
        } else {
            from = start + 1;
        }
    }
    out
}

/// The store places that what stays refers to, each with who refers to it; answers whether
/// deleting a place would remove one of them.
///
/// A *used* place (an artifact, an input a step read, a model a registry record points at) is
/// protected whole: the place itself, everything around it and everything inside it. A place
/// that is only *named* (an output base such as `S3OutputPath` that runs write under, a
/// template or a prefix in a definition) protects itself and what is around it; things inside
/// it belong to whoever wrote them. Places are keyed by their path under the artifact area,
/// parts joined with '/' (so `s3://b/proj/`, `s3://b//proj` and `s3://b/proj` are one place).
struct Protected<'a> {
    store: &'a Store,
    artifacts_root: std::path::PathBuf,
    whos: Vec<String>,
    places: HashMap<String, (usize, bool)>,
    /// Every prefix of a protected place -> the first place found under it.
    under: HashMap<String, String>,
}

impl<'a> Protected<'a> {
    fn new(store: &'a Store) -> Self {
        Protected {
            store,
            artifacts_root: store.artifacts_root(),
            whos: Vec::new(),
            places: HashMap::new(),
            under: HashMap::new(),
        }
    }

    /// The place of an `s3://` URI (its parts under the artifact area, joined), if it is one.
    fn place(&self, uri: &str) -> Option<(String, usize)> {
        let path = self.store.uri_to_path(uri).ok()?;
        let rel = path.strip_prefix(&self.artifacts_root).ok()?;
        place_of(rel)
    }

    fn who(&mut self, who: String) -> usize {
        self.whos.push(who);
        self.whos.len() - 1
    }

    fn add_text(&mut self, text: &str, escaped: bool, who: usize, used: bool) {
        for uri in s3_uris(text, escaped) {
            let Some((key, _)) = self.place(uri) else { continue };
            match self.places.get_mut(&key) {
                Some(known) if used && !known.1 => *known = (who, used),
                Some(_) => {}
                None => {
                    self.places.insert(key.clone(), (who, used));
                }
            }
            for (i, _) in key.match_indices('/') {
                if !self.under.contains_key(&key[..i]) {
                    self.under.insert(key[..i].to_string(), key.clone());
                }
            }
            if !self.under.contains_key(&key) {
                self.under.insert(key.clone(), key);
            }
        }
    }

    /// Every string (keys too) of a JSON value, as JSON text written with only ASCII shows it.
    fn add_json(&mut self, value: &Value, who: usize, used: bool, skip_key: Option<&str>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if skip_key == Some(k.as_str()) {
                        continue;
                    }
                    self.add_text(k, true, who, used);
                    self.add_json(v, who, used, None);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.add_json(v, who, used, None)),
            Value::String(s) => self.add_text(s, true, who, used),
            _ => {}
        }
    }

    /// The locations in a step's properties: used under the keys of places used.
    fn add_properties(&mut self, value: &Value, who: usize, key: &str) {
        match value {
            Value::Object(map) => map.iter().for_each(|(k, v)| self.add_properties(v, who, k)),
            Value::Array(items) => items.iter().for_each(|v| self.add_properties(v, who, key)),
            Value::String(s) => self.add_text(s, false, who, USED_PLACE_KEYS.contains(&key)),
            _ => {}
        }
    }

    /// What step records produced, read and name.
    fn add_steps(&mut self, steps: &[StepRecord], who: usize) {
        for step in steps {
            for artifact in &step.artifacts {
                self.add_text(&artifact.uri, false, who, true);
            }
            if let Some(properties) = &step.properties {
                self.add_properties(properties, who, "");
            }
            if let Ok(value) = serde_json::to_value(step) {
                self.add_json(&value, who, false, Some("Properties"));
            }
        }
    }

    /// Why the place `key` must stay, or None if it may go.
    fn conflict(&self, key: &str) -> Option<String> {
        if let Some((who, _)) = self.places.get(key) {
            return Some(format!("referenced by {}", self.whos[*who]));
        }
        if let Some(inside) = self.under.get(key) {
            let who = &self.whos[self.places[inside].0];
            return Some(format!("contains s3://{inside}, referenced by {who}"));
        }
        for (i, _) in key.rmatch_indices('/') {
            if let Some((who, true)) = self.places.get(&key[..i]) {
                return Some(format!("lies inside s3://{}, used by {}", &key[..i], self.whos[*who]));
            }
        }
        None
    }
}

/// A path under the artifact area as a place key (parts joined with '/') and its part count.
fn place_of(rel: &Path) -> Option<(String, usize)> {
    let parts: Vec<&str> = rel.iter().map(|p| p.to_str()).collect::<Option<_>>()?;
    if parts.is_empty() {
        return None;
    }
    Some((parts.join("/"), parts.len()))
}

fn execution_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// An execution as the plan sees it.
struct Seen {
    record: ExecutionRecord,
    /// Empty when one of its step records cannot be read.
    steps: Vec<StepSummary>,
    steps_readable: bool,
}

/// Decide what to delete (reads the store; writes only what reading writes: the settlement of
/// a run whose owner died).
pub fn plan(store: &Store, request: &GcRequest) -> CoreResult<GcPlan> {
    let state = store.records_state()?;
    if let Some(names) = &request.pipelines {
        for name in names {
            store.load_pipeline(name)?; // NotFound for a pipeline that does not exist
        }
    }
    let collected: Option<HashSet<&str>> = request
        .pipelines
        .as_ref()
        .map(|names| names.iter().map(String::as_str).collect());
    let (pipelines, bad_pipelines) = store.list_pipelines_checked()?;
    let readable: HashSet<String> = pipelines.iter().map(|p| p.pipeline_name.clone()).collect();
    let mut warnings = bad_pipelines;
    let mut unreadable: Vec<UnreadableRecord> = warnings.clone();

    let mut records: Vec<(String, Seen)> = Vec::new(); // in the order found
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut kept: Vec<(String, String)> = Vec::new();
    let mut is_kept: HashSet<String> = HashSet::new();
    let mut candidates: HashSet<String> = HashSet::new();
    let mut damaged: Vec<(String, Vec<StepRecord>)> = Vec::new();
    let mut keep_it = |kept: &mut Vec<(String, String)>, arn: &str, why: String| {
        if is_kept.insert(arn.to_string()) {
            kept.push((arn.to_string(), why));
            true
        } else {
            false
        }
    };

    for name in store.pipeline_names() {
        let mut rank = 0usize;
        for ex in store.stored_executions::<StepRefs>(&name)? {
            let arn = util::execution_arn(&name, &ex.id);
            let mut steps = Vec::with_capacity(ex.steps.len());
            let mut steps_readable = true;
            for step in ex.steps {
                match step {
                    Ok(s) => steps.push(StepSummary::from(s)),
                    Err(e @ CoreError::CorruptRecord { .. }) => {
                        steps_readable = false;
                        unreadable.push(store.unreadable(e, Some(arn.clone()))?);
                    }
                    Err(e) => return Err(e),
                }
            }
            steps.sort_by_key(|s| s.seq);
            let record = match ex.record {
                Ok(r) => r,
                Err(e @ CoreError::CorruptRecord { .. }) => {
                    let mut entry = store.unreadable(e, Some(arn.clone()))?;
                    if steps_readable {
                        match store.read_steps_by_id(&name, &ex.id) {
                            Ok(full) => entry.step_records = full,
                            Err(CoreError::CorruptRecord { .. }) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    if readable.contains(&name) {
                        warnings.push(entry.clone());
                    }
                    if !entry.step_records.is_empty() {
                        damaged.push((arn, entry.step_records.clone()));
                    }
                    unreadable.push(entry);
                    continue;
                }
                Err(e) => return Err(e),
            };
            if !readable.contains(&name) {
                continue; // only what it holds that cannot be read is reported
            }
            // A run whose owner died is settled first, as every reader does.
            let (record, steps, steps_readable) = if record.pipeline_execution_status.is_terminal() {
                (record, steps, steps_readable)
            } else {
                match recovery::load_execution_by_id(store, &name, &ex.id) {
                    Ok(r) => match store.read_steps_by_id(&name, &ex.id) {
                        Ok(steps) => (r, steps.iter().map(StepSummary::of).collect(), true),
                        Err(CoreError::CorruptRecord { .. }) => (r, Vec::new(), false),
                        Err(e) => return Err(e),
                    },
                    Err(CoreError::NotFound { .. }) => continue, // deleted meanwhile
                    Err(e @ CoreError::CorruptRecord { .. }) => {
                        warnings.push(store.unreadable(e, Some(arn.clone()))?);
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            };
            // Its readable steps protect nothing when one cannot be read: what it refers to is
            // unknown, so the unreadable record's text protects instead.
            let steps = if steps_readable { steps } else { Vec::new() };
            let created = record.creation_time;
            let status = record.pipeline_execution_status;
            index.insert(arn.clone(), records.len());
            records.push((
                arn.clone(),
                Seen {
                    record,
                    steps,
                    steps_readable,
                },
            ));
            if collected.as_ref().is_some_and(|c| !c.contains(name.as_str())) {
                continue;
            }
            candidates.insert(arn.clone());
            if !steps_readable {
                keep_it(&mut kept, &arn, "some of its step records cannot be read".into());
                continue;
            }
            if rank < request.keep {
                keep_it(&mut kept, &arn, format!("one of the {} newest of {name}", request.keep));
            } else if !status.is_terminal() {
                keep_it(&mut kept, &arn, "still running".into());
            } else if request.older_than.is_some_and(|cutoff| created >= cutoff) {
                keep_it(&mut kept, &arn, "newer than the cut-off".into());
            }
            rank += 1;
        }
    }
    // An execution whose own record cannot be read stays: what its readable step records name
    // and reuse stays with it.
    for (arn, _) in &damaged {
        keep_it(&mut kept, arn, "its execution record cannot be read".into());
    }
    let damaged_steps: HashMap<&str, Vec<StepSummary>> = damaged
        .iter()
        .map(|(a, s)| (a.as_str(), s.iter().map(StepSummary::of).collect()))
        .collect();
    let mut pending: Vec<String> = kept.iter().map(|(a, _)| a.clone()).collect();
    while let Some(arn) = pending.pop() {
        // Keep what kept executions reuse, transitively.
        let found = match index.get(&arn) {
            Some(&i) => sources(Some(&records[i].1.record), &records[i].1.steps),
            None => sources(None, damaged_steps.get(arn.as_str()).map_or(&[], Vec::as_slice)),
        };
        for source in found {
            if candidates.contains(&source)
                && keep_it(
                    &mut kept,
                    &source,
                    format!("reused by kept execution {}", execution_id(&arn)),
                )
            {
                pending.push(source);
            }
        }
    }
    let mut delete: Vec<(f64, usize, String)> = candidates
        .iter()
        .filter(|a| !is_kept.contains(*a))
        .map(|a| {
            let i = index[a];
            (records[i].1.record.creation_time, i, a.clone())
        })
        .collect();
    delete.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    let doomed: HashSet<&str> = delete.iter().map(|d| d.2.as_str()).collect();

    // Everything that stays protects what it refers to: kept executions of the collected
    // pipelines, every execution of the others, unreadable records, the model registry.
    let mut protected = Protected::new(store);
    for (arn, seen) in &records {
        if doomed.contains(arn.as_str()) {
            continue;
        }
        let who = protected.who(format!(
            "execution {} of {}, which stays",
            execution_id(arn),
            seen.record.pipeline_name
        ));
        if seen.steps_readable {
            let (pipeline, id) = (&seen.record.pipeline_name, &seen.record.execution_id);
            match store.read_steps_by_id(pipeline, id) {
                Ok(steps) => protected.add_steps(&steps, who),
                Err(CoreError::CorruptRecord { .. }) => {} // damaged since: its text protects
                Err(e) => return Err(e),
            }
        }
        if let Ok(value) = serde_json::to_value(&seen.record) {
            protected.add_json(&value, who, false, None);
        }
        // Templates and prefixes: the resolved places are in the step properties.
        if let Ok(definition) = store.execution_definition(arn) {
            protected.add_text(&definition, false, who, false);
        }
    }
    for (arn, steps) in &damaged {
        let who = protected.who(format!("execution {}, whose record cannot be read", execution_id(arn)));
        protected.add_steps(steps, who);
    }
    unreadable.sort_by(|a, b| a.path.cmp(&b.path));
    for entry in &unreadable {
        let who = protected.who(format!("the unreadable record {}", entry.path.display()));
        protected.add_text(&entry.text, false, who, true);
    }
    // What every model package version and every model a CreateModel step recorded point at
    // (whatever their approval status: a registered version stays deployable).
    for entry in store.registry_records() {
        let source = entry.get("Source").and_then(Value::as_str).unwrap_or_default();
        if let Some(record) = entry.get("Record") {
            let who = protected.who(source.to_string());
            protected.add_json(record, who, true, None);
        } else {
            let who = protected.who(format!("the unreadable registry record {source}"));
            let text = entry.get("Text").and_then(Value::as_str).unwrap_or_default();
            protected.add_text(text, false, who, true);
        }
    }

    let mut uris: Vec<&str> = delete
        .iter()
        .flat_map(|d| records[d.1].1.steps.iter())
        .flat_map(|s| s.artifacts.iter().map(String::as_str))
        .collect();
    uris.sort_unstable();
    uris.dedup();
    let mut artifacts = Vec::new();
    let mut kept_artifacts = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for uri in uris {
        if !uri.starts_with("s3://") {
            kept_artifacts.push((
                uri.to_string(),
                "outside the store's artifact area: gc deletes only s3:// artifacts".to_string(),
            ));
            continue;
        }
        let path = match store.uri_to_path(uri) {
            Ok(p) => p,
            Err(e) => {
                kept_artifacts.push((uri.to_string(), format!("not a usable S3 URI ({e})")));
                continue;
            }
        };
        let place = path.strip_prefix(&protected.artifacts_root).ok().and_then(place_of);
        let Some((key, _)) = place.filter(|(_, depth)| *depth > 1) else {
            kept_artifacts.push((
                uri.to_string(),
                "a whole bucket: gc deletes only places inside a bucket".to_string(),
            ));
            continue;
        };
        if let Some(why) = protected.conflict(&key) {
            kept_artifacts.push((uri.to_string(), why));
        } else if seen.insert(key) {
            artifacts.push(uri.to_string());
        }
    }
    Ok(GcPlan {
        keep: kept,
        delete: delete.into_iter().map(|d| d.2).collect(),
        artifacts,
        kept_artifacts,
        unreadable,
        state,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_end_where_the_text_form_ends_them() {
        assert_eq!(s3_uris("a s3://b/k x s3://c/d\"e", false), ["s3://b/k", "s3://c/d"]);
        assert_eq!(s3_uris("s3://s3://b", false), ["s3://s3://b"]);
        assert_eq!(s3_uris("s3:// s3://\\ s3://b\\c", false), ["s3://b"]);
        // A raw string keeps other characters; JSON text written with only ASCII ends there.
        assert_eq!(s3_uris("s3://b/é/x", false), ["s3://b/é/x"]);
        assert_eq!(s3_uris("s3://b/é/x", true), ["s3://b/"]);
        assert_eq!(s3_uris("s3://b/k\u{1f}x s3://b/\u{a0}", false), ["s3://b/k", "s3://b/"]);
    }

    #[test]
    fn a_step_records_references_read_alone_are_those_of_the_whole_record() {
        let text = serde_json::json!({
            "StepName": "Train", "StepType": "Training", "StepStatus": "Succeeded", "Seq": 3,
            "Properties": {"OutputDataConfig": {"S3OutputPath": "s3://b/not-an-artifact"}},
            "Signature": {"Arguments": {"S3Uri": "s3://b/in"}, "CacheKey": "k"},
            "Artifacts": [
                {"Uri": "s3://b/out/a", "Size": 1, "MtimeNs": 2, "Sha256": "x"},
                {"Uri": "s3://b/out/b", "Size": 1, "MtimeNs": 0, "Sha256": "y", "Inline": true},
            ],
            "CacheHitResult": {"SourcePipelineExecutionArn": "arn:cached"},
            "SelectiveExecutionResult": {"SourcePipelineExecutionArn": "arn:reference"},
        })
        .to_string();
        let whole = StepSummary::of(&serde_json::from_str::<StepRecord>(&text).expect("a step record"));
        let alone = StepSummary::from(serde_json::from_str::<StepRefs>(&text).expect("its references"));
        assert_eq!(
            (alone.seq, &alone.artifacts, &alone.sources),
            (whole.seq, &whole.artifacts, &whole.sources)
        );
        assert_eq!(alone.artifacts, ["s3://b/out/a", "s3://b/out/b"]);
        assert_eq!(alone.sources, ["arn:reference", "arn:cached"]);
        // A torn record is as unreadable this way as the other.
        let torn = &text[..text.len() / 2];
        assert!(serde_json::from_str::<StepRefs>(torn).is_err());
    }

    fn protected_with<'a>(store: &'a Store, entries: &[(&str, bool)]) -> Protected<'a> {
        let mut p = Protected::new(store);
        for (uri, used) in entries {
            let who = p.who(format!("x{uri}"));
            p.add_text(uri, false, who, *used);
        }
        p
    }

    fn conflict(p: &Protected<'_>, uri: &str) -> Option<String> {
        let (key, _) = p.place(uri).expect("a place in the store");
        p.conflict(&key)
    }

    #[test]
    fn containment_follows_used_and_named_places() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open(dir.path()).expect("a store");
        let p = protected_with(&store, &[("s3://b/used/model.tar.gz", true), ("s3://b/base/", false)]);
        // The place itself, however it is spelled.
        assert_eq!(
            conflict(&p, "s3://b//used/model.tar.gz").as_deref(),
            Some("referenced by xs3://b/used/model.tar.gz")
        );
        // What contains a protected place.
        assert_eq!(
            conflict(&p, "s3://b/used").as_deref(),
            Some("contains s3://b/used/model.tar.gz, referenced by xs3://b/used/model.tar.gz")
        );
        assert_eq!(
            conflict(&p, "s3://b/base/").as_deref(),
            Some("referenced by xs3://b/base/")
        );
        // Inside a used place: kept; inside a place only named: free.
        assert_eq!(
            conflict(&p, "s3://b/used/model.tar.gz/part").as_deref(),
            Some("lies inside s3://b/used/model.tar.gz, used by xs3://b/used/model.tar.gz")
        );
        assert_eq!(conflict(&p, "s3://b/base/run-1/out"), None);
        assert_eq!(conflict(&p, "s3://b/other"), None);
        // A named place later used becomes used.
        let p = protected_with(&store, &[("s3://b/base", false), ("s3://b/base", true)]);
        assert_eq!(
            conflict(&p, "s3://b/base/x").as_deref(),
            Some("lies inside s3://b/base, used by xs3://b/base")
        );
    }
}
