//! What an execution ends as when the process that ran it is gone: the one place that decides
//! the status of a dead owner's run and of its unfinished steps. Every read that shows an
//! execution goes through here, so a run whose owner died is settled the first time anyone
//! looks (the store offers the primitives: the record as written, the abandoned lock, writes).

use crate::error::{CoreError, CoreResult};
use crate::selection::ReferenceRun;
use crate::store::{ExecutionPage, ExecutionRecord, ExecutionStatus, StepRecord, StepStatus, Store, UnreadableRecord};
use crate::util;
use crate::validate;

/// Load an execution record. If it claims to be running but its owning process is gone, it is
/// settled (see `settle_abandoned`) before it is returned.
pub fn load_execution(store: &Store, arn: &str) -> CoreResult<ExecutionRecord> {
    let (name, id) = store.resolve_arn(arn)?;
    load_execution_by_id(store, &name, &id)
}

pub fn load_execution_by_id(store: &Store, pipeline: &str, id: &str) -> CoreResult<ExecutionRecord> {
    let rec = store.read_execution_by_id(pipeline, id)?;
    settled(store, rec)
}

/// `rec` as it stands once a dead owner's run is settled.
fn settled(store: &Store, rec: ExecutionRecord) -> CoreResult<ExecutionRecord> {
    if rec.pipeline_execution_status.is_terminal() {
        return Ok(rec);
    }
    match store.claim_abandoned(&rec.pipeline_name, &rec.execution_id)? {
        None => Ok(rec), // the owner is alive
        Some(_lock) => settle_abandoned(store, &rec.pipeline_name, &rec.execution_id),
    }
}

/// Step records of an execution in the order the steps started (a dead owner's run settled).
pub fn load_steps(store: &Store, arn: &str) -> CoreResult<Vec<StepRecord>> {
    let rec = load_execution(store, arn)?;
    store.read_steps_by_id(&rec.pipeline_name, &rec.execution_id)
}

/// A pipeline's readable executions, newest first (dead owners' runs settled), and the
/// execution records that cannot be read (one bad record does not hide the others).
pub fn list_executions_checked(
    store: &Store,
    pipeline: &str,
) -> CoreResult<(Vec<ExecutionRecord>, Vec<UnreadableRecord>)> {
    let page = execution_page(store, pipeline, true, None, None, None, usize::MAX)?;
    Ok((page.records, page.unreadable))
}

/// One page of a pipeline's executions (see `Store::execution_page`), dead owners' runs
/// settled. The pipeline must exist (`NotFound` otherwise, as for a whole listing).
pub fn execution_page(
    store: &Store,
    pipeline: &str,
    newest_first: bool,
    created_after_us: Option<i64>,
    created_before_us: Option<i64>,
    after: Option<(i64, String)>,
    limit: usize,
) -> CoreResult<ExecutionPage> {
    store.load_pipeline(pipeline)?;
    let mut page = store.execution_page(
        pipeline,
        newest_first,
        created_after_us,
        created_before_us,
        after,
        limit,
    )?;
    let records = std::mem::take(&mut page.records);
    for rec in records {
        let arn = util::execution_arn(pipeline, &rec.execution_id);
        match settled(store, rec) {
            Ok(r) => page.records.push(r),
            Err(CoreError::NotFound { .. }) => {} // deleted meanwhile
            Err(e) => page.unreadable.push(store.unreadable(e, Some(arn))?),
        }
    }
    Ok(page)
}

/// A pipeline's newest readable execution (settled), if it has one.
pub fn latest_execution(store: &Store, pipeline: &str) -> CoreResult<Option<ExecutionRecord>> {
    let mut after = None;
    loop {
        let page = execution_page(store, pipeline, true, None, None, after, 8)?;
        if let Some(rec) = page.records.into_iter().next() {
            return Ok(Some(rec));
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(None),
        }
    }
}

/// Settle the run of an owner that died. Called with the execution's lock held. Its steps
/// still running end as the execution does: Stopped if it was asked to stop, else Failed; an
/// execution whose work was all done (the owner died before writing the final record) ends
/// Succeeded, as the owner would have ended it.
fn settle_abandoned(store: &Store, pipeline: &str, id: &str) -> CoreResult<ExecutionRecord> {
    // Its space set aside is no longer needed, and freeing it first lets the records fit.
    store.release_reserve(pipeline, id);
    // Re-read under the lock: the owner may have finished just before it exited.
    let mut rec = store.read_execution_by_id(pipeline, id).map_err(|e| match e {
        CoreError::NotFound { .. } => CoreError::CorruptRecord {
            path: store.execution_dir(pipeline, id).join("execution.json"),
            msg: "vanished".into(),
        },
        other => other,
    })?;
    if rec.pipeline_execution_status.is_terminal() {
        return Ok(rec);
    }
    let steps = store.read_steps_by_id(pipeline, id)?;
    if rec.pipeline_execution_status == ExecutionStatus::Executing && work_completed(store, &rec, &steps) {
        rec.pipeline_execution_status = ExecutionStatus::Succeeded;
        rec.failure_reason = None;
        rec.end_time = steps
            .iter()
            .filter_map(|s| s.end_time)
            .reduce(f64::max)
            .or(Some(util::now()));
        rec.last_modified_time = util::now();
        store.write_settlement(&rec, &[])?;
        return Ok(rec);
    }
    let t = util::now();
    // Asked to stop (e.g. Ctrl-C) and the process exited before its steps ended: the
    // execution was stopped as requested, not interrupted.
    let stopping = rec.pipeline_execution_status == ExecutionStatus::Stopping || store.stop_requested(pipeline, id);
    let (status, step_status, step_reason, reason) = if stopping {
        (
            ExecutionStatus::Stopped,
            StepStatus::Stopped,
            Some(format!(
                "Stopped by request; the process that ran it (pid {}) exited before this step ended.",
                rec.owner_pid
            )),
            None,
        )
    } else {
        let reason = format!(
            "Execution interrupted: the process that ran it (pid {}) exited before the execution finished.",
            rec.owner_pid
        );
        (
            ExecutionStatus::Failed,
            StepStatus::Failed,
            Some(reason.clone()),
            Some(reason),
        )
    };
    let settled_steps: Vec<StepRecord> = steps
        .into_iter()
        .filter(|s| !s.step_status.is_terminal())
        .map(|mut step| {
            step.step_status = step_status;
            step.failure_reason = step_reason.clone();
            step.end_time = Some(t);
            step
        })
        .collect();
    rec.pipeline_execution_status = status;
    rec.failure_reason = reason;
    rec.last_modified_time = t;
    rec.end_time = Some(t);
    // One transaction: a reader sees the run as the owner left it or wholly settled.
    store.write_settlement(&rec, &settled_steps)?;
    Ok(rec)
}

/// Whether a dead owner's execution had done all its work (see `ReferenceRun::work_completed`).
/// A definition that no longer compiles counts as not done: the execution is then marked Failed.
fn work_completed(store: &Store, rec: &ExecutionRecord, steps: &[StepRecord]) -> bool {
    let Ok(text) = store.execution_definition(&util::execution_arn(&rec.pipeline_name, &rec.execution_id)) else {
        return false;
    };
    let Ok(compiled) = validate::compile(&text, &rec.pipeline_name) else {
        return false;
    };
    let run = ReferenceRun {
        record: rec.clone(),
        steps: steps.iter().map(|s| (s.step_name.clone(), s.clone())).collect(),
    };
    run.work_completed(&compiled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PutMode;

    /// An execution of `p` whose owner is gone (no lock held), with one step still Executing.
    fn orphan(store: &Store, id: &str, status: ExecutionStatus) -> String {
        let arn = util::execution_arn("p", id);
        let rec = ExecutionRecord {
            pipeline_name: "p".into(),
            pipeline_execution_arn: arn.clone(),
            execution_id: id.into(),
            pipeline_execution_status: status,
            owner_pid: 1,
            ..ExecutionRecord::default()
        };
        store.write_execution(&rec).expect("record");
        let step = StepRecord {
            step_name: "Train".into(),
            step_status: StepStatus::Executing,
            ..StepRecord::default()
        };
        store.write_step("p", id, &step).expect("step");
        arn
    }

    #[test]
    fn a_dead_owner_that_was_stopping_leaves_its_execution_stopped() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open");
        store
            .put_pipeline("p", "{}", PutMode::Create, &serde_json::json!({}))
            .expect("create");
        let stopping = orphan(&store, "stopping0001", ExecutionStatus::Stopping);
        let running = orphan(&store, "running00001", ExecutionStatus::Executing);
        let requested = orphan(&store, "requested001", ExecutionStatus::Executing);
        // Asked to stop from another process (`request_stop`) just before the owner died.
        store.write_stop_request("p", "requested001").expect("stop request");
        for arn in [&stopping, &requested] {
            assert_eq!(
                load_execution(&store, arn).expect("load").pipeline_execution_status,
                ExecutionStatus::Stopped
            );
            let steps = load_steps(&store, arn).expect("steps");
            assert_eq!(steps[0].step_status, StepStatus::Stopped);
            assert!(steps[0]
                .failure_reason
                .as_deref()
                .unwrap_or("")
                .contains("exited before this step ended"));
        }
        // Not asked to stop: the execution was interrupted, which is a failure.
        assert_eq!(
            load_execution(&store, &running)
                .expect("load")
                .pipeline_execution_status,
            ExecutionStatus::Failed
        );
        assert_eq!(
            store.executions_with_id("stop"),
            vec![stopping.clone()],
            "found by the start of its id"
        );
    }
}
