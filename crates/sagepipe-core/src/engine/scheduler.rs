//! The scheduler of one execution: starts every ready step (up to the parallelism limit), runs
//! ConditionStep branches, stops on failure or request, and records everything in the store.

use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::cache;
use super::retry::next_delay;
use super::scope::RunScope;
use super::workers::WorkerPool;
use super::{Event, Host, Shared, StepLink};
use crate::dag::{Dag, EdgeKind};
use crate::executors::{self, FailureKind, Outcome, StepContext, StepKind};
use crate::expr::evaluate;
use crate::selection::{Plan, ReferenceRun};
use crate::signature;
use crate::store::{self, ExecutionRecord, ExecutionStatus, InlineObject, StepRecord, StepStatus, Store};
use crate::util;
use crate::validate::CompiledPipeline;

/// SageMaker's execution failure reason when a step (not a FailStep) failed.
pub const STEP_FAILURE_REASON: &str = "Step failure: One or multiple steps failed.";
/// How often the scheduler looks for a stop request from another process.
const STOP_POLL: Duration = Duration::from_millis(200);
/// Step failure reasons are capped like the service's (1024 characters).
const MAX_REASON: usize = 1024;
/// How long a step's first (Executing) record is held back before it is written: most steps
/// of a fast pipeline end sooner and are written once, with their final state.
const PUBLISH_EXECUTING_AFTER: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Running,
    Succeeded,
    Failed,
    Stopped,
    /// Will not run: a branch not taken, or downstream of a step that did not succeed.
    Skipped,
}

/// What the store shows of one step of this run. Its records are written by the step's thread,
/// except a held-back Executing record, which the scheduler writes once the step has run for
/// `PUBLISH_EXECUTING_AFTER`; both write under this slot's lock, so an Executing record can
/// never land after the step's final one.
#[derive(Default)]
struct StepSlot {
    /// The step's in-progress record, not yet written.
    held: Option<StepRecord>,
    /// Whether the store has this step's record: later progress is written at once.
    written: bool,
}

/// A running step: its index, when it started, and whether its Executing record is still held.
type RunningStep = (usize, Instant, bool);

/// What the scheduler knows of the steps while the execution runs.
struct Board {
    state: Vec<State>,
    /// A ConditionStep's outcome, once it has succeeded.
    outcome: Vec<Option<bool>>,
    /// How many of each step's parents have not ended yet.
    remaining: Vec<usize>,
    ready: VecDeque<usize>,
    running: Vec<RunningStep>,
    failed: bool,
    /// The message of the first FailStep that failed.
    fail_message: Option<String>,
    stopping: bool,
}

impl Board {
    /// After step `i` ended, decide for each child whose parents have all ended whether it runs
    /// (every parent succeeded and, for a branch step, its condition took that branch) or is
    /// skipped; skipping cascades.
    fn release_children(&mut self, dag: &Dag, i: usize) {
        let mut queue = VecDeque::from([i]);
        while let Some(p) = queue.pop_front() {
            for c in dag.children(p) {
                self.remaining[c] = self.remaining[c].saturating_sub(1);
                if self.remaining[c] > 0 || self.state[c] != State::Pending {
                    continue;
                }
                let runnable = dag.incoming(c).iter().all(|&(parent, kind)| {
                    self.state[parent] == State::Succeeded
                        && match kind {
                            EdgeKind::Branch(b) => self.outcome[parent].is_some_and(|o| b.taken(o)),
                            _ => true,
                        }
                });
                if runnable {
                    self.ready.push_back(c);
                } else {
                    self.state[c] = State::Skipped;
                    queue.push_back(c);
                }
            }
        }
    }
}

/// The engine threads steps run on: kept for the next step; one more starts only when all
/// are busy.
struct StepThreads {
    queue: Sender<usize>,
    queued: Arc<Mutex<Receiver<usize>>>,
    threads: Vec<JoinHandle<()>>,
}

impl StepThreads {
    fn new() -> StepThreads {
        let (queue, queued) = channel::<usize>();
        StepThreads {
            queue,
            queued: Arc::new(Mutex::new(queued)),
            threads: Vec::new(),
        }
    }

    /// Hand step `i` to an idle thread, starting one if fewer than `busy` exist. False if no
    /// thread could be started.
    fn start(&mut self, run: &Arc<Run>, events: &Sender<Event>, i: usize, busy: usize) -> bool {
        if self.threads.len() < busy {
            let (r, tx, queued) = (Arc::clone(run), events.clone(), Arc::clone(&self.queued));
            match std::thread::Builder::new()
                .name(format!("sagepipe-step-{}", self.threads.len()))
                .spawn(move || step_thread(&r, &queued, &tx))
            {
                Ok(t) => self.threads.push(t),
                Err(_) => return false,
            }
        }
        // Cannot fail: this struct holds the receiving end (`queued`).
        let _ = self.queue.send(i);
        true
    }

    /// Close the queue and wait for the threads, which end once it is empty.
    fn close(self) {
        drop(self.queue);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// What the scheduler needs to know when a step ends.
pub enum Settled {
    Succeeded { condition_outcome: Option<bool> },
    Failed { fail_step_message: Option<String> },
    Stopped,
}

pub struct Run {
    store: Store,
    compiled: Arc<CompiledPipeline>,
    kinds: Vec<StepKind>,
    record: Mutex<ExecutionRecord>,
    parameters: Map<String, Value>,
    dir: PathBuf,
    shared: Arc<Shared>,
    pool: Option<Arc<WorkerPool>>,
    host: Option<Arc<dyn Host>>,
    jobs: Arc<executors::JobSettings>,
    max_parallel: usize,
    properties: RwLock<Vec<Option<Value>>>,
    seq: AtomicU64,
    selective: Option<(Plan, Option<Arc<ReferenceRun>>)>,
    slots: Vec<Mutex<StepSlot>>,
    /// The first record write that failed (a full disk, say): the execution ends Failed with it.
    store_error: Mutex<Option<String>>,
    /// Held while a step log is cut (the scheduler and the step's thread both check it).
    capping_log: Mutex<()>,
}

impl Run {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        compiled: Arc<CompiledPipeline>,
        kinds: Vec<StepKind>,
        record: ExecutionRecord,
        dir: PathBuf,
        shared: Arc<Shared>,
        pool: Option<Arc<WorkerPool>>,
        host: Option<Arc<dyn Host>>,
        jobs: Arc<executors::JobSettings>,
        max_parallel: usize,
        selective: Option<(Plan, Option<Arc<ReferenceRun>>)>,
    ) -> Run {
        let n = compiled.steps.len();
        Run {
            store,
            compiled,
            kinds,
            parameters: record.parameters.clone(),
            record: Mutex::new(record),
            dir,
            shared,
            pool,
            host,
            jobs,
            max_parallel,
            properties: RwLock::new(vec![None; n]),
            seq: AtomicU64::new(0),
            selective,
            slots: (0..n).map(|_| Mutex::new(StepSlot::default())).collect(),
            store_error: Mutex::new(None),
            capping_log: Mutex::new(()),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
    pub fn compiled(&self) -> &CompiledPipeline {
        &self.compiled
    }
    pub fn record_parameters(&self) -> &Map<String, Value> {
        &self.parameters
    }
    fn with_record<T>(&self, f: impl FnOnce(&ExecutionRecord) -> T) -> T {
        match self.record.lock() {
            Ok(r) => f(&r),
            Err(p) => f(&p.into_inner()),
        }
    }
    pub fn execution_id(&self) -> String {
        self.with_record(|r| r.execution_id.clone())
    }
    pub fn execution_arn(&self) -> String {
        self.with_record(|r| r.pipeline_execution_arn.clone())
    }
    pub fn pipeline_name(&self) -> &str {
        &self.compiled.name
    }
    pub fn start_time(&self) -> f64 {
        self.with_record(|r| r.creation_time)
    }

    /// The recorded properties of a step of this run.
    pub fn properties_of(&self, step: &str) -> Result<Value, String> {
        let i = *self
            .compiled
            .index
            .get(step)
            .ok_or_else(|| format!("no step '{step}' in this pipeline"))?;
        let props = self
            .properties
            .read()
            .map_err(|_| "properties lock poisoned".to_string())?;
        props[i].clone().ok_or_else(|| {
            format!("step '{step}' has not succeeded in this execution, so its properties are undefined")
        })
    }

    /// Write the execution record; a failure is noted (see `note_store_error`).
    fn write_record(&self) -> bool {
        let written = self.with_record(|r| self.store.write_execution(r));
        self.noted(written)
    }

    /// A record write failed: remember the first failure (the execution will end Failed with
    /// it; its failure records are written into the space set aside, see `store::RESERVE_DIR`).
    fn note_store_error(&self, e: &crate::error::CoreError) {
        let mut first = self.store_error.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(format!("sagepipe could not write a record of this execution: {e}"));
        }
    }

    fn reserve(&self) -> PathBuf {
        self.dir.join(store::RESERVE_DIR)
    }

    fn noted(&self, written: crate::error::CoreResult<()>) -> bool {
        match written {
            Ok(()) => true,
            Err(e) => {
                self.note_store_error(&e);
                false
            }
        }
    }

    /// Keep a step's log within `STEP_LOG_CAP` (checked while it runs and when it ends).
    fn cap_log(&self, path: &std::path::Path) {
        let _one_at_a_time = self.capping_log.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = store::cap_log(path, &store::STEP_LOG_CAP) {
            append_log(path, &format!("[sagepipe] could not cap this log: {e}\n"));
        }
    }

    fn store_error(&self) -> Option<String> {
        self.store_error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Run the execution to its end. Called on the execution's own thread.
    pub fn drive(self) {
        let run = Arc::new(self);
        let (tx, rx) = channel::<Event>();
        run.send_events_to(Some(tx.clone()));
        let mut board = run.first_board();
        let mut threads = StepThreads::new();
        run.run_until_settled(&mut board, &mut threads, &tx, &rx);
        // Every step has settled, so the threads are idle: closing the queue ends them.
        threads.close();
        run.record_end(&board);
        run.send_events_to(None);
    }

    /// Where stop requests and step ends are sent (None once the execution has ended).
    fn send_events_to(&self, events: Option<Sender<Event>>) {
        if let Ok(mut ev) = self.shared.events.lock() {
            *ev = events;
        }
    }

    /// The steps as the execution starts: those without parents are ready. A selective run
    /// first settles what it does not run: reused steps are Succeeded (with the reference's
    /// records), the rest are skipped; then only the selected steps start.
    fn first_board(&self) -> Board {
        let n = self.compiled.steps.len();
        let dag = &self.compiled.dag;
        let mut board = Board {
            state: vec![State::Pending; n],
            outcome: vec![None; n],
            remaining: (0..n).map(|i| dag.parents(i).len()).collect(),
            ready: VecDeque::new(),
            running: Vec::new(),
            failed: false,
            fail_message: None,
            stopping: false,
        };
        if let Some((plan, reference)) = &self.selective {
            for &i in &self.compiled.order {
                if plan.selected.contains(&i) {
                    continue;
                }
                if plan.reused.contains(&i) {
                    board.outcome[i] = self.reuse_step(i, reference.as_deref());
                    board.state[i] = State::Succeeded;
                } else {
                    board.state[i] = State::Skipped;
                }
                board.release_children(dag, i);
            }
            // Settling pushes children whose parents are all settled; only selected steps run.
            board.ready.retain(|i| plan.selected.contains(i));
            for &i in &self.compiled.order {
                if plan.selected.contains(&i) && board.remaining[i] == 0 && !board.ready.contains(&i) {
                    board.ready.push_back(i);
                }
            }
        } else {
            let roots = self.compiled.order.iter().copied().filter(|&i| board.remaining[i] == 0);
            board.ready.extend(roots);
        }
        board.stopping = self.shared.stop.load(Ordering::SeqCst);
        board
    }

    /// Start ready steps and settle the ones that end, until no step runs.
    fn run_until_settled(
        self: &Arc<Self>,
        board: &mut Board,
        threads: &mut StepThreads,
        tx: &Sender<Event>,
        rx: &Receiver<Event>,
    ) {
        let execution_id = self.execution_id();
        let mut stop_checked = Instant::now();
        loop {
            // A record that could not be written fails the run: nothing new starts.
            board.failed |= self.store_error().is_some();
            self.start_ready(board, threads, tx);
            if board.running.is_empty() {
                break;
            }
            let now = Instant::now();
            let until_poll = STOP_POLL.saturating_sub(now.duration_since(stop_checked));
            let mut wait = self.publish_due_records(&mut board.running, now, until_poll);
            // Checked on a clock, not only when idle: a stream of fast steps never idles.
            if wait.is_zero() {
                stop_checked = now;
                wait = STOP_POLL;
                self.poll(board, &execution_id, tx);
            }
            match rx.recv_timeout(wait) {
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
                Ok(Event::Done(i, settled)) => self.step_ended(board, i, settled),
                Ok(Event::Stop) => self.begin_stopping(board),
            }
        }
    }

    /// Start ready steps up to the parallelism limit; none once the run stops or has failed.
    fn start_ready(self: &Arc<Self>, board: &mut Board, threads: &mut StepThreads, tx: &Sender<Event>) {
        while !board.stopping && !board.failed && board.running.len() < self.max_parallel {
            let Some(i) = board.ready.pop_front() else { break };
            board.state[i] = State::Running;
            board.running.push((i, Instant::now(), true));
            if !threads.start(self, tx, i, board.running.len()) {
                board.running.pop();
                board.state[i] = State::Failed;
                board.failed = true;
            }
        }
    }

    /// Write the Executing records held back for `PUBLISH_EXECUTING_AFTER`; returns how long
    /// the scheduler may wait (at most `wait`) before the next one is due.
    fn publish_due_records(&self, running: &mut [RunningStep], now: Instant, mut wait: Duration) -> Duration {
        for (i, started, held) in running.iter_mut().filter(|r| r.2) {
            let due = *started + PUBLISH_EXECUTING_AFTER;
            if now >= due {
                self.publish_held(*i);
                *held = false;
            } else {
                wait = wait.min(due - now);
            }
        }
        wait
    }

    /// Every `STOP_POLL`: a stop requested by another process (`Store::stop_requested`), and the
    /// running steps' logs kept within their cap.
    fn poll(&self, board: &Board, execution_id: &str, tx: &Sender<Event>) {
        if !board.stopping && self.store.stop_requested(&self.compiled.name, execution_id) {
            self.shared.stop.store(true, Ordering::SeqCst);
            let _ = tx.send(Event::Stop);
        }
        for &(i, _, _) in &board.running {
            self.cap_log(
                &self
                    .store
                    .log_path(&self.compiled.name, execution_id, self.compiled.name_of(i)),
            );
        }
    }

    /// Step `i` ended: note how, and release (or skip) its children.
    fn step_ended(&self, board: &mut Board, i: usize, settled: Settled) {
        board.running.retain(|r| r.0 != i);
        board.state[i] = match settled {
            Settled::Succeeded { condition_outcome } => {
                board.outcome[i] = condition_outcome;
                State::Succeeded
            }
            Settled::Failed { fail_step_message } => {
                board.failed = true;
                if board.fail_message.is_none() {
                    board.fail_message = fail_step_message;
                }
                State::Failed
            }
            Settled::Stopped => State::Stopped,
        };
        board.release_children(&self.compiled.dag, i);
    }

    /// A stop request: the execution is Stopping, its running jobs are killed, nothing new starts.
    fn begin_stopping(&self, board: &mut Board) {
        if board.stopping {
            return;
        }
        board.stopping = true;
        if let Ok(mut r) = self.record.lock() {
            r.pipeline_execution_status = ExecutionStatus::Stopping;
            r.last_modified_time = util::now();
        }
        self.write_record();
        self.shared.kill_all();
    }

    /// How the execution ended, with its failure reason: a record that could not be written
    /// fails it; a stop request (or a stopped step, when no step failed) stops it; a failed step
    /// fails it (with the first FailStep's message, if one failed).
    fn verdict(&self, board: &Board) -> (ExecutionStatus, Option<String>) {
        if let Some(store_error) = self.store_error() {
            (ExecutionStatus::Failed, Some(store_error))
        } else if board.stopping || board.state.contains(&State::Stopped) && !board.failed {
            (ExecutionStatus::Stopped, None)
        } else if board.failed {
            (
                ExecutionStatus::Failed,
                Some(
                    board
                        .fail_message
                        .clone()
                        .unwrap_or_else(|| STEP_FAILURE_REASON.to_string()),
                ),
            )
        } else {
            (ExecutionStatus::Succeeded, None)
        }
    }

    /// Record the end of the execution: its verdict, or (if the record cannot be written as
    /// it is) that it failed and why, in the space set aside.
    fn record_end(&self, board: &Board) {
        let t = util::now();
        let (status, reason) = self.verdict(board);
        if let Ok(mut r) = self.record.lock() {
            r.pipeline_execution_status = status;
            r.failure_reason = reason;
            r.last_modified_time = t;
            r.end_time = Some(t);
        }
        if !self.write_record() {
            if let (Ok(mut r), Some(reason)) = (self.record.lock(), self.store_error()) {
                r.pipeline_execution_status = ExecutionStatus::Failed;
                r.failure_reason = Some(reason);
            }
            let written = self.with_record(|r| self.store.write_execution_reserved(r));
            if written.is_err() {
                eprintln!(
                    "sagepipe: could not record the end of execution {}: {}",
                    self.execution_arn(),
                    self.store_error().unwrap_or_default()
                );
            }
        }
        let _ = std::fs::remove_dir_all(self.reserve());
    }

    /// Record a reused step: the reference's record (metadata, properties, artifacts) marked
    /// with `SelectiveExecutionResult`. Returns a ConditionStep's recorded outcome.
    fn reuse_step(&self, i: usize, reference: Option<&ReferenceRun>) -> Option<bool> {
        let name = self.compiled.name_of(i);
        let r = reference?;
        let mut rec = r.steps.get(name)?.clone();
        rec.seq = self.seq.fetch_add(1, Ordering::SeqCst);
        rec.cache_hit_result = None;
        rec.selective_execution_result =
            Some(serde_json::json!({"SourcePipelineExecutionArn": r.record.pipeline_execution_arn}));
        if let Ok(mut props) = self.properties.write() {
            props[i] = rec.properties.clone();
        }
        // A reused record that cannot be written fails the run (see `note_store_error`).
        let _ = self.record_final(i, &rec);
        rec.outcome()
    }

    fn job_name(&self, i: usize) -> String {
        util::job_name(&self.execution_id(), self.compiled.name_of(i), &util::new_id()[..10])
    }

    fn save_step(&self, rec: &StepRecord) -> bool {
        self.noted(self.store.write_step(self.pipeline_name(), &self.execution_id(), rec))
    }

    fn slot(&self, i: usize) -> std::sync::MutexGuard<'_, StepSlot> {
        self.slots[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record a running step's progress: held back until the step has run a while (see
    /// `StepSlot`), written at once after that.
    fn record_progress(&self, i: usize, rec: &StepRecord) {
        let mut slot = self.slot(i);
        if slot.written {
            self.save_step(rec);
        } else {
            slot.held = Some(rec.clone());
        }
    }

    /// Write a step's final record (it replaces any held one). If it cannot be written as it
    /// is, the step is recorded Failed saying why, and false is returned: the step failed.
    fn record_final(&self, i: usize, rec: &StepRecord) -> bool {
        self.record_final_with(i, rec, &[])
    }

    /// `record_final`, with the step's inline objects written in the same transaction (not at
    /// all when the record cannot be written).
    fn record_final_with(&self, i: usize, rec: &StepRecord, objects: &[InlineObject]) -> bool {
        let mut slot = self.slot(i);
        slot.held = None;
        slot.written = true;
        let saved =
            self.noted(
                self.store
                    .write_step_with_objects(self.pipeline_name(), &self.execution_id(), rec, objects),
            );
        if saved {
            return true;
        }
        let failed = StepRecord {
            step_status: StepStatus::Failed,
            failure_reason: Some(cap_reason(&format!(
                "the step ended {} but its record could not be written: {}",
                rec.step_status,
                self.store_error().unwrap_or_default()
            ))),
            end_time: rec.end_time.or_else(|| Some(util::now())),
            properties: None,
            artifacts: vec![],
            ..rec.clone()
        };
        if self
            .store
            .write_step_reserved(self.pipeline_name(), &self.execution_id(), &failed)
            .is_err()
        {
            eprintln!(
                "sagepipe: could not record step '{}' of {}: {}",
                rec.step_name,
                self.execution_arn(),
                self.store_error().unwrap_or_default()
            );
        }
        if let Ok(mut props) = self.properties.write() {
            props[i] = None;
        }
        false
    }

    /// The hold-back time is over: write step `i`'s held record, if any, and write the next
    /// ones at once (a step still hashing its inputs has nothing held yet).
    fn publish_held(&self, i: usize) {
        let mut slot = self.slot(i);
        slot.written = true;
        if let Some(rec) = slot.held.take() {
            self.save_step(&rec);
        }
    }

    /// Run one step with its retries; record it; tell the scheduler how it ended.
    fn run_step(&self, i: usize) -> Settled {
        let step = &self.compiled.steps[i];
        let kind = &self.kinds[i];
        let job_name = self.job_name(i);
        let exec_id = self.execution_id();
        let started = util::now();
        let mut rec = StepRecord {
            step_name: step.name().to_string(),
            step_type: step.def.step_type.clone(),
            step_display_name: step.def.display_name.clone(),
            step_description: step.def.description.clone(),
            start_time: Some(started),
            end_time: None,
            step_status: StepStatus::Executing,
            attempt_count: 0,
            failure_reason: None,
            metadata: Map::new(),
            cache_hit_result: None,
            selective_execution_result: None,
            properties: None,
            artifacts: vec![],
            error: None,
            seq: self.seq.fetch_add(1, Ordering::SeqCst),
            signature: None,
            cache_miss_reason: None,
            function_results_uri: None,
        };
        let ctx = StepContext::new(
            self.store.clone(),
            exec_id.clone(),
            job_name.clone(),
            self.store.log_path(&self.compiled.name, &exec_id, step.name()),
            Arc::clone(&self.jobs),
            Arc::new(StepLink {
                step_index: i,
                shared: Arc::clone(&self.shared),
                pool: self.pool.clone(),
                host: self.host.clone(),
            }),
        );
        let scope = RunScope {
            run: self,
            job_name: &job_name,
        };
        let locate = |u: &str| self.store.uri_to_path(u).ok();
        rec.signature = signature::of_step(step, &scope, &locate).ok();
        let caching = cache::policy(step).is_some() && !matches!(kind, StepKind::Condition | StepKind::Fail);
        if let (true, Some(sig)) = (caching, &rec.signature) {
            // Shared with other runs, exclusive of gc: the earlier run found here is not deleted
            // before this step's record names it as its source. Without the lock (it could not be
            // opened) the lookup still runs, as it did before gc took it.
            let _store_lock = self.store.lock_shared().ok();
            match cache::lookup(&self.store, &self.compiled.name, step, sig, util::now()) {
                cache::Lookup::Hit { arn, record } => return self.settle_cache_hit(i, rec, *record, &arn, &ctx),
                cache::Lookup::Miss(reason) => {
                    append_log(&ctx.log_path, &format!("[sagepipe] cache miss: {reason}\n"));
                    rec.cache_miss_reason = Some(reason);
                }
            }
        }
        let first = Instant::now();
        let outcome = loop {
            rec.attempt_count += 1;
            self.record_progress(i, &rec);
            if ctx.stopping() {
                break Outcome::Stopped("Stopped by request".into());
            }
            let attempt = match kind {
                // Conditions are evaluated by the executor (operands may only make sense there).
                StepKind::Condition => executors::execute(kind, step, &Value::Null, &ctx, &scope),
                _ => match evaluate(&step.def.arguments, &scope) {
                    Ok(args) => {
                        if *kind == StepKind::Function {
                            rec.function_results_uri = executors::function_results_uri(&args);
                        }
                        executors::execute(kind, step, &args, &ctx, &scope)
                    }
                    Err(e) => Outcome::Failed(executors::StepFailure::new(
                        format!("cannot resolve the arguments of step '{}': {e}", step.name()),
                        FailureKind::Permanent,
                    )),
                },
            };
            match attempt {
                // A step killed because the execution is stopping ended Stopped, not Failed.
                Outcome::Failed(_) if ctx.stopping() => break Outcome::Stopped("Stopped by request".into()),
                Outcome::Failed(f) => {
                    let elapsed_min = first.elapsed().as_secs_f64() / 60.0;
                    match next_delay(&step.def.retry_policies, f.kind, rec.attempt_count, elapsed_min) {
                        Some(delay) => {
                            append_log(
                                &ctx.log_path,
                                &format!(
                                    "[sagepipe] attempt {} failed ({}); retrying in {delay:.1}s\n",
                                    rec.attempt_count,
                                    f.reason.lines().next().unwrap_or("")
                                ),
                            );
                            if !sleep_unless_stopped(&ctx, delay) {
                                break Outcome::Stopped("Stopped by request".into());
                            }
                        }
                        None => break Outcome::Failed(f),
                    }
                }
                other => break other,
            }
        };
        rec.end_time = Some(util::now());
        self.cap_log(&ctx.log_path);
        let mut objects = Vec::new();
        let settled = match outcome {
            Outcome::Succeeded(s) => {
                rec.step_status = StepStatus::Succeeded;
                rec.metadata = s.metadata;
                rec.artifacts = s.artifacts;
                objects = s.objects;
                let condition_outcome = s
                    .properties
                    .get("Outcome")
                    .and_then(Value::as_bool)
                    .filter(|_| *kind == StepKind::Condition);
                if let Ok(mut props) = self.properties.write() {
                    props[i] = Some(s.properties.clone());
                }
                rec.properties = Some(s.properties);
                if let (true, Some(sig), Some(end)) = (caching, &rec.signature, rec.end_time) {
                    let arn = self.execution_arn();
                    if let Err(e) = cache::record(&self.store, &self.compiled.name, step.name(), &arn, end, sig) {
                        append_log(
                            &ctx.log_path,
                            &format!("[sagepipe] could not record the cache entry: {e}\n"),
                        );
                    }
                }
                Settled::Succeeded { condition_outcome }
            }
            Outcome::Failed(f) => {
                rec.step_status = StepStatus::Failed;
                rec.failure_reason = Some(cap_reason(&f.reason));
                rec.metadata = *f.metadata;
                rec.error = f.error.map(|e| *e);
                let fail_step_message = (*kind == StepKind::Fail).then(|| f.reason.clone());
                Settled::Failed { fail_step_message }
            }
            Outcome::Stopped(reason) => {
                rec.step_status = StepStatus::Stopped;
                rec.failure_reason = Some(reason);
                Settled::Stopped
            }
        };
        if !self.record_final_with(i, &rec, &objects) {
            return Settled::Failed {
                fail_step_message: None,
            };
        }
        settled
    }
}

impl Run {
    /// Record step `i` as Failed after an internal error (a panic) in sagepipe itself.
    fn record_internal_failure(&self, i: usize) -> Settled {
        // The step's process, if it had one, is no longer ours to kill on a stop: its pid may
        // be reused by then.
        if let Ok(mut p) = self.shared.pids.lock() {
            p.retain(|(step, _), _| *step != i);
        }
        let now = util::now();
        let rec = StepRecord {
            step_name: self.compiled.name_of(i).to_string(),
            step_type: self.compiled.steps[i].def.step_type.clone(),
            step_status: StepStatus::Failed,
            start_time: Some(now),
            end_time: Some(now),
            failure_reason: Some("internal error in sagepipe while running this step (a bug: please report it)".into()),
            seq: self.seq.fetch_add(1, Ordering::SeqCst),
            ..StepRecord::default()
        };
        let _ = self.record_final(i, &rec);
        Settled::Failed {
            fail_step_message: None,
        }
    }

    /// Record step `i` as a cache hit: the earlier run's properties, metadata and artifacts,
    /// marked with `CacheHitResult`.
    fn settle_cache_hit(
        &self,
        i: usize,
        mut rec: StepRecord,
        source: StepRecord,
        arn: &str,
        ctx: &StepContext,
    ) -> Settled {
        append_log(
            &ctx.log_path,
            &format!("[sagepipe] cache hit: reusing step '{}' of {arn}\n", rec.step_name),
        );
        rec.step_status = StepStatus::Succeeded;
        rec.end_time = Some(util::now());
        rec.metadata = source.metadata;
        rec.artifacts = source.artifacts;
        rec.function_results_uri = source.function_results_uri;
        rec.cache_hit_result = Some(serde_json::json!({"SourcePipelineExecutionArn": arn}));
        if let Ok(mut props) = self.properties.write() {
            props[i] = source.properties.clone();
        }
        rec.properties = source.properties;
        if !self.record_final(i, &rec) {
            return Settled::Failed {
                fail_step_message: None,
            };
        }
        Settled::Succeeded {
            condition_outcome: None,
        }
    }
}

/// An engine thread: runs the steps the scheduler queues until the queue closes.
fn step_thread(run: &Run, queued: &Mutex<Receiver<usize>>, events: &Sender<Event>) {
    loop {
        // Held only while waiting: the next idle thread takes the next step.
        let next = match queued.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(i) = next else { return };
        // A panic must still settle the step, or the execution would wait forever.
        let settled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.run_step(i)))
            .unwrap_or_else(|_| run.record_internal_failure(i));
        if events.send(Event::Done(i, settled)).is_err() {
            return;
        }
    }
}

fn cap_reason(reason: &str) -> String {
    if reason.chars().count() <= MAX_REASON {
        return reason.to_string();
    }
    // Keep the start (the error) and the end (where it happened).
    let head: String = reason.chars().take(MAX_REASON / 2 - 10).collect();
    let tail: Vec<char> = reason.chars().rev().take(MAX_REASON / 2 - 10).collect();
    format!("{head}\n...\n{}", tail.into_iter().rev().collect::<String>())
}

fn append_log(path: &std::path::Path, text: &str) {
    store::append_text(path, text);
}

fn sleep_unless_stopped(ctx: &StepContext, seconds: f64) -> bool {
    // A NaN delay (e.g. 0 x an infinite backoff) means no delay; clamp would keep the NaN.
    let seconds = if seconds.is_nan() {
        0.0
    } else {
        seconds.clamp(0.0, 86400.0)
    };
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    while Instant::now() < until {
        if ctx.stopping() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20).min(until.saturating_duration_since(Instant::now())));
    }
    !ctx.stopping()
}
