//! The interpreter over a plan's functions: each body runs as a dataflow graph
//! ([`dataflow`]), SSA values live in scoped environments, structured control, parallel
//! `map`, compiled fragments ([`fragments`]).

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{Compiled, Options, RunError, Value, ops};
use crate::plan::{Function, Op, Plan, Region};
use crate::tools::exec::ExecTool;
use crate::tools::http::{Method, Request, TEXT_PLAIN, expand_header, expand_url, json_object, send};
use crate::tools::{AttemptError, Attempts, Cancel, wait_before_attempt, with_retries};
use crate::trace::Trace;

pub(super) const CANCELLED: &str = "cancelled";

mod dataflow;
mod fragments;

/// Hashes a value id as itself: ids are small dense integers, so SipHash (the default) only
/// costs time (a third of an interpreted op's, by profile).
#[derive(Default)]
pub(super) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n);
    }
}

/// A map keyed by value id.
pub(super) type IdMap<V> = HashMap<u32, V, std::hash::BuildHasherDefault<IdHasher>>;

/// A cancellation scope: the run's, or a `try` body's inside the scope around it. The first
/// failure cancels the innermost scope (the ops still running beside it stop); a scope is
/// cancelled when it or any enclosing one is, so an interrupt stops everything, while a
/// failure inside a `try` body stops that body only.
pub(super) struct CancelScope<'a> {
    flag: AtomicBool,
    parent: Option<&'a CancelScope<'a>>,
}

impl<'a> CancelScope<'a> {
    fn root() -> Self {
        CancelScope { flag: AtomicBool::new(false), parent: None }
    }

    fn inside(parent: &'a CancelScope<'a>) -> Self {
        CancelScope { flag: AtomicBool::new(false), parent: Some(parent) }
    }

    /// Cancels this scope (and the scopes inside it).
    pub(super) fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }
}

impl Cancel for CancelScope<'_> {
    fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed) || self.parent.is_some_and(|p| p.is_cancelled())
    }
}

/// The values visible at a point: this region's, then the enclosing ones'. Ops of one body
/// may finish on different threads, so the map is locked.
pub(super) struct Env<'a> {
    parent: Option<&'a Env<'a>>,
    values: RwLock<IdMap<Value>>,
    /// The cancellation scope the ops of this region run in.
    pub(super) cancel: &'a CancelScope<'a>,
    /// The iteration numbers of the enclosing `map` / `for` / `loop` bodies, outermost first:
    /// with the call site, it picks a generate call's random stream.
    pub(super) path: Vec<i64>,
}

impl<'a> Env<'a> {
    fn root(cancel: &'a CancelScope<'a>) -> Self {
        Env { parent: None, values: RwLock::new(IdMap::default()), cancel, path: Vec::new() }
    }

    /// A region's scope inside `parent`, sized for `capacity` values (its parameters and
    /// results), so the map is not regrown while the region runs.
    fn child(parent: &'a Env<'a>, iteration: Option<i64>, capacity: usize) -> Self {
        Self::child_in(parent, parent.cancel, iteration, capacity)
    }

    /// [`Env::child`] whose ops run in the cancellation scope `cancel` (a `try` body's).
    fn child_in(parent: &'a Env<'a>, cancel: &'a CancelScope<'a>, iteration: Option<i64>, capacity: usize) -> Self {
        let mut path = parent.path.clone();
        path.extend(iteration);
        let values = IdMap::with_capacity_and_hasher(capacity, Default::default());
        Env { parent: Some(parent), values: RwLock::new(values), cancel, path }
    }

    pub(super) fn get(&self, id: u32) -> Option<Value> {
        if let Some(v) = self.values.read().unwrap_or_else(|e| e.into_inner()).get(&id) {
            return Some(v.clone());
        }
        self.parent.and_then(|p| p.get(id))
    }

    pub(super) fn insert(&self, id: u32, value: Value) {
        self.values.write().unwrap_or_else(|e| e.into_inner()).insert(id, value);
    }
}

pub(super) struct Interpreter<'p> {
    plan: &'p Plan,
    functions: HashMap<&'p str, &'p Function>,
    /// Threads that may still be started for `map` bodies and independent fragments:
    /// `max_parallel - 1` at first (the thread that reaches a `map` runs bodies too), so at
    /// most `max_parallel` bodies or fragments run at once in the whole run.
    spare_threads: AtomicUsize,
    trace: Option<&'p Trace>,
    /// The run's cancellation scope: set by an interrupt, or by the first failure outside
    /// any `try` body; every op still running stops.
    cancel: CancelScope<'static>,
    compiled: Option<&'p Compiled>,
    interrupt: Option<&'p AtomicBool>,
    seed: u64,
    stream: bool,
}

/// Whether a `try` may catch `e`: any failure of the program's work (a tool, a model, a
/// built-in, a sub-agent), but not a cancellation or an internal error (a bug of agentc).
fn is_catchable(e: &RunError) -> bool {
    e.message != CANCELLED && !e.message.starts_with("internal error")
}

pub(super) fn error(op: &Op, message: impl Into<String>) -> RunError {
    RunError { loc: op.loc.clone(), message: message.into() }
}

impl<'p> Interpreter<'p> {
    pub(super) fn new(plan: &'p Plan, options: &Options<'p>) -> Self {
        let functions = plan.functions.iter().map(|f| (f.name.as_str(), f)).collect();
        let max_parallel = if options.max_parallel == 0 { crate::pool::default_workers() } else { options.max_parallel };
        Interpreter {
            plan,
            functions,
            spare_threads: AtomicUsize::new(max_parallel.max(1) - 1),
            trace: options.trace,
            cancel: CancelScope::root(),
            compiled: options.compiled,
            interrupt: options.interrupt,
            seed: options.seed,
            stream: options.stream,
        }
    }

    pub(super) fn run_main(&self, args: &[String]) -> Result<Value, RunError> {
        let main = self.plan.function("main").ok_or_else(|| RunError { loc: String::new(), message: "the plan has no `main`".into() })?;
        let args: Vec<Value> = match main.params.len() {
            0 => vec![],
            _ => vec![Value::list(args.iter().cloned().map(Value::Text).collect())],
        };
        let (finished, finished_wait) = std::sync::mpsc::channel::<()>();
        let mut results = std::thread::scope(|scope| {
            if let Some(interrupt) = self.interrupt {
                // Turns an interrupt into the run's cancellation (tools poll `cancel`); wakes
                // at once when the run ends (the sender is dropped), so exiting never waits.
                scope.spawn(move || {
                    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = finished_wait.recv_timeout(Duration::from_millis(20)) {
                        if interrupt.load(Ordering::Relaxed) {
                            self.cancel.cancel();
                            break;
                        }
                    }
                });
            }
            let results = self.call_function(main, args, &self.cancel);
            drop(finished);
            results
        })?;
        Ok(if results.len() == 1 { results.remove(0) } else { Value::list(results) })
    }

    fn call_function(&self, function: &Function, args: Vec<Value>, cancel: &CancelScope<'_>) -> Result<Vec<Value>, RunError> {
        let env = Env::root(cancel);
        for (param, arg) in function.params.iter().zip(args) {
            env.insert(param.id, arg);
        }
        self.run_body(function, &function.body, &env)
    }

    /// Runs one op (not a terminator), records it on the trace when it is a fragment, and
    /// returns its results.
    pub(super) fn run_traced(&self, function: &Function, op: &Op, env: &Env<'_>) -> Result<Vec<Value>, RunError> {
        let traced = self.trace.is_some() && op.placement.is_some();
        // The process's CPU time and its threads' polling, before and after (all threads:
        // the call's own only when nothing else runs beside it).
        let cpu = || traced.then(crate::trace::process_cpu_seconds).flatten().map(|c| (c, crate::async_runtime::spun_seconds()));
        let cpu_before = cpu();
        let started = Instant::now();
        let results = self.run_op(function, op, env);
        let cpu_after = cpu();
        if let (Some(trace), Some(placement)) = (self.trace, &op.placement) {
            let name = match op.attrs.get("callee").or_else(|| op.attrs.get("model")).and_then(|c| c.as_str()) {
                Some(callee) => format!("{} {callee}", op.op),
                None => op.op.clone(),
            };
            let mut args = vec![("loc", op.loc.clone())];
            if let Some(start) = placement.start {
                args.push(("planned_start_s", format!("{start:.6}")));
            }
            if let Some(finish) = placement.finish {
                args.push(("planned_finish_s", format!("{finish:.6}")));
            }
            if let (Some((c0, s0)), Some((c1, s1))) = (cpu_before, cpu_after) {
                args.push(("cpu_s", format!("{:.6}", c1 - c0)));
                args.push(("spin_s", format!("{:.6}", s1 - s0)));
            }
            if let Err(e) = &results {
                args.push(("error", e.message.clone()));
            }
            trace.slice(trace.track(&placement.device), &name, "fragment", started, Instant::now(), &args);
            if let (Some(start), Some(finish)) = (placement.start, placement.finish) {
                // The schedule, on a track of its own next to the device's actual one.
                let key = format!("{}|{}|{}", placement.device, name, op.loc);
                trace.planned(&format!("{} (planned)", placement.device), &key, &name, start, finish, &[("loc", op.loc.clone())]);
            }
        }
        let results = results?;
        if results.len() != op.results.len() {
            return Err(error(op, format!("internal error: `{}` gave {} values for {} results", op.op, results.len(), op.results.len())));
        }
        Ok(results)
    }

    pub(super) fn operands(&self, op: &Op, env: &Env<'_>) -> Result<Vec<Value>, RunError> {
        op.operands
            .iter()
            .map(|id| env.get(*id).ok_or_else(|| error(op, format!("internal error: value %{id} is not defined"))))
            .collect()
    }

    fn run_region(&self, function: &Function, op: &Op, region: &Region, parent: &Env<'_>, iteration: Option<i64>, args: Vec<Value>) -> Result<Vec<Value>, RunError> {
        let capacity = region.params.len() + region.body.iter().map(|op| op.results.len()).sum::<usize>();
        let env = Env::child(parent, iteration, capacity);
        if region.params.len() != args.len() {
            return Err(error(op, "internal error: region arity"));
        }
        for (param, arg) in region.params.iter().zip(args) {
            env.insert(param.id, arg);
        }
        self.run_body(function, &region.body, &env)
    }

    fn run_op(&self, function: &Function, op: &Op, env: &Env<'_>) -> Result<Vec<Value>, RunError> {
        let args = self.operands(op, env)?;
        let refs: Vec<&Value> = args.iter().collect();
        let result_types: Vec<_> = op.results.iter().map(|r| r.ty.clone()).collect();
        if let Some(result) = ops::eval(op, &refs, &result_types) {
            return result.map(|v| vec![v]).map_err(|m| error(op, m));
        }
        match op.op.as_str() {
            "if" => {
                let Some(Value::Bool(condition)) = args.first() else { return Err(error(op, "internal error: `if` without a bool")) };
                let region = op.regions.get(if *condition { 0 } else { 1 }).ok_or_else(|| error(op, "internal error: `if` regions"))?;
                self.run_region(function, op, region, env, None, vec![])
            }
            "try" => self.run_try(function, op, env),
            "loop" => self.run_loop(function, op, env, args),
            "for" => self.run_for(function, op, env, args),
            "map" => self.run_map(function, op, env, args),
            "call" | "tool" => {
                let callee = op.attrs.get("callee").and_then(|c| c.as_str()).unwrap_or("");
                let target = self.functions.get(callee).ok_or_else(|| error(op, format!("internal error: no function `{callee}`")))?;
                let result = self.call_function(target, args, env.cancel);
                if op.op == "tool" {
                    // A tool's failure is reported at the call.
                    result.map_err(|e| RunError { loc: op.loc.clone(), message: e.message })
                } else {
                    result
                }
            }
            "exec" => self.run_exec(function, op, env, args).map(|v| vec![v]),
            "http" => self.run_http(function, op, env, args).map(|v| vec![v]),
            "url_template" => {
                let template = op.attrs.get("template").and_then(|t| t.as_str()).unwrap_or("");
                let names: Vec<&str> = op.attrs.get("names").and_then(|n| n.as_array()).map(|a| a.iter().filter_map(|n| n.as_str()).collect()).unwrap_or_default();
                let params: Vec<(&str, &str)> = names.iter().zip(&args).map(|(n, v)| (*n, if let Value::Text(t) = v { t.as_str() } else { "" })).collect();
                expand_url(template, &params).map(|u| vec![Value::Text(u)]).map_err(|m| error(op, format!("tool `{}`: {m}", function.name)))
            }
            "json_object" => {
                let keys: Vec<&str> = op.attrs.get("keys").and_then(|k| k.as_array()).map(|a| a.iter().filter_map(|k| k.as_str()).collect()).unwrap_or_default();
                let values: Vec<String> = args.iter().map(Value::to_text).collect();
                let values: Vec<&str> = values.iter().map(String::as_str).collect();
                Ok(vec![Value::Text(json_object(&keys, &values))])
            }
            "kv_transfer" => Ok(args),
            "chat_prompt" => self.chat_prompt(op, &args).map(|prompt| vec![Value::Text(prompt)]),
            "prefill" | "decode" | "encode" | "compute" => self.run_compiled(&function.name, op, env, args),
            other => Err(error(op, format!("internal error: opcode `{other}` cannot run here"))),
        }
    }

    /// `chat_prompt`: the conversation (`[role, content]` pairs) rendered by the model's
    /// chat template, as the plan embeds it.
    fn chat_prompt(&self, op: &Op, args: &[Value]) -> Result<String, RunError> {
        let model = op.attrs.get("model").and_then(|m| m.as_str()).unwrap_or("");
        let template = self.plan.models.iter().find(|m| m.name == model).and_then(|m| m.chat.as_ref());
        let template = template.ok_or_else(|| error(op, format!("internal error: model `{model}` has no chat template")))?;
        let Some(Value::List(items)) = args.first() else { return Err(error(op, "internal error: `chat_prompt` without its messages")) };
        let mut messages = Vec::with_capacity(items.len());
        for item in items.iter() {
            match item {
                Value::List(pair) if pair.len() == 2 => {
                    messages.push(crate::chat::Message { role: pair[0].to_text(), content: pair[1].to_text() });
                }
                _ => return Err(error(op, "internal error: a chat message is not a [role, content] pair")),
            }
        }
        template.render(&messages, true).map_err(|m| error(op, format!("{model}.chat: the chat template refused the conversation: {m}")))
    }

    fn attempts(op: &Op) -> Attempts {
        let timeout_ms = op.attrs.get("timeout_ms").and_then(|t| t.as_u64()).unwrap_or(0);
        let retries = op.attrs.get("retries").and_then(|r| r.as_u64()).unwrap_or(0);
        let max_output = op.attrs.get("max_output").and_then(|m| m.as_u64()).unwrap_or(crate::tools::DEFAULT_MAX_OUTPUT);
        // The loader bounds `backoff_ms` (1 to MAX_BACKOFF_MS); absent: retries follow at once.
        let backoff = op.attrs.get("backoff_ms").and_then(|b| b.as_u64()).map(Duration::from_millis);
        Attempts {
            backoff,
            timeout: (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms)),
            // The loader bounds `retries` (at most MAX_RETRIES).
            retries: u32::try_from(retries).unwrap_or(u32::MAX),
            max_output,
        }
    }

    fn run_exec(&self, function: &Function, op: &Op, env: &Env<'_>, args: Vec<Value>) -> Result<Value, RunError> {
        let program = op.attrs.get("program").and_then(|p| p.as_str()).unwrap_or("").to_string();
        let tool = ExecTool { name: function.name.clone(), program, attempts: Self::attempts(op) };
        let argv: Vec<String> = match args.first() {
            Some(Value::List(items)) => items.iter().map(Value::to_text).collect(),
            _ => return Err(error(op, "internal error: `exec` without an argv list")),
        };
        let stdin = match args.get(1) {
            Some(Value::Text(t)) => Some(t.as_str()),
            _ => None,
        };
        tool.call_cancellable(&argv, stdin, env.cancel).map(Value::Text).map_err(|e| Self::tool_error(op, env, e))
    }

    fn run_http(&self, function: &Function, op: &Op, env: &Env<'_>, args: Vec<Value>) -> Result<Value, RunError> {
        let method = match op.attrs.get("method").and_then(|m| m.as_str()) {
            Some("post") => Method::Post,
            _ => Method::Get,
        };
        let attempts = Self::attempts(op);
        let url = args.first().map(Value::to_text).unwrap_or_default();
        let body = args.get(1).map(Value::to_text);
        let content_type = op.attrs.get("content_type").and_then(|c| c.as_str()).unwrap_or(TEXT_PLAIN);
        let strings = |key: &str| -> Vec<&str> {
            op.attrs.get(key).and_then(|a| a.as_array()).map(|a| a.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default()
        };
        let declared: Vec<(&str, &str)> = strings("header_names").into_iter().zip(strings("header_values")).collect();
        with_retries(&function.name, attempts.retries, |n| {
            wait_before_attempt(&attempts, n, Some(env.cancel))?;
            if env.cancel.is_cancelled() {
                return Err(AttemptError::Fatal(CANCELLED.into()));
            }
            // Read at each attempt, so a rotated token is picked up; never stored elsewhere.
            let mut headers = Vec::with_capacity(declared.len());
            let mut secrets = Vec::new();
            for (name, template) in &declared {
                let (value, read) = expand_header(name, template).map_err(AttemptError::Fatal)?;
                headers.push((name.to_string(), value));
                secrets.extend(read);
            }
            let request = Request { method, url: &url, body: body.as_deref(), content_type, headers: &headers, secrets: &secrets };
            send(&request, &attempts, Some(env.cancel))
        })
        .map(Value::Text)
        .map_err(|e| Self::tool_error(op, env, e))
    }

    fn tool_error(op: &Op, env: &Env<'_>, e: crate::tools::ToolError) -> RunError {
        if e.cause == CANCELLED && env.cancel.is_cancelled() {
            error(op, CANCELLED)
        } else {
            error(op, e.to_string())
        }
    }

    /// `try`: runs the body (region 0) in a cancellation scope of its own; when it fails
    /// with a failure the program may handle, runs the catch arm (region 1) with the
    /// failure's one-line message. Cancellation (an interrupt, or a failure outside this
    /// `try` that cancels the scope around it) and internal errors are never caught.
    fn run_try(&self, function: &Function, op: &Op, env: &Env<'_>) -> Result<Vec<Value>, RunError> {
        let [body, handler] = op.regions.as_slice() else { return Err(error(op, "internal error: `try` regions")) };
        let scope = CancelScope::inside(env.cancel);
        let capacity = body.body.iter().map(|op| op.results.len()).sum::<usize>();
        let body_env = Env::child_in(env, &scope, None, capacity);
        match self.run_body(function, &body.body, &body_env) {
            Ok(values) => Ok(values),
            Err(e) if is_catchable(&e) && !env.cancel.is_cancelled() => {
                self.run_region(function, op, handler, env, None, vec![Value::Text(e.message)])
            }
            Err(e) => Err(e),
        }
    }

    fn run_loop(&self, function: &Function, op: &Op, env: &Env<'_>, mut carried: Vec<Value>) -> Result<Vec<Value>, RunError> {
        let [before, after] = op.regions.as_slice() else { return Err(error(op, "internal error: `loop` regions")) };
        // The loader requires the bound; the loop ends normally after that many bodies even if
        // its condition (crafted IR) would go on, as `loop (max: N)` does.
        let Some(max_iterations) = op.attrs.get("max_iterations").and_then(serde_json::Value::as_i64) else {
            return Err(error(op, "internal error: `loop` without `max_iterations`"));
        };
        let mut iteration = 0i64;
        loop {
            let mut values = self.run_region(function, op, before, env, Some(iteration), carried)?;
            if values.is_empty() {
                return Err(error(op, "internal error: `condition` without operands"));
            }
            let Value::Bool(go_on) = values.remove(0) else { return Err(error(op, "internal error: `condition` without a bool")) };
            if !go_on || iteration >= max_iterations {
                return Ok(values);
            }
            carried = self.run_region(function, op, after, env, Some(iteration), values)?;
            iteration += 1;
        }
    }

    /// The indices `lb, lb + step, … < ub` of a `for` / `map`.
    fn indices(op: &Op, args: &[Value]) -> Result<Vec<i64>, RunError> {
        let (Some(Value::Int(lb)), Some(Value::Int(ub)), Some(Value::Int(step))) = (args.first(), args.get(1), args.get(2)) else {
            return Err(error(op, format!("internal error: `{}` bounds", op.op)));
        };
        if *step <= 0 {
            return Err(error(op, format!("`{}` step {step} is not positive", op.op)));
        }
        let mut indices = Vec::new();
        let mut i = *lb;
        while i < *ub {
            indices.push(i);
            match i.checked_add(*step) {
                Some(next) => i = next,
                None => break,
            }
        }
        Ok(indices)
    }

    fn run_for(&self, function: &Function, op: &Op, env: &Env<'_>, args: Vec<Value>) -> Result<Vec<Value>, RunError> {
        let region = op.regions.first().ok_or_else(|| error(op, "internal error: `for` region"))?;
        let mut carried = args[3.min(args.len())..].to_vec();
        for i in Self::indices(op, &args)? {
            let mut params = vec![Value::Int(i)];
            params.extend(carried);
            carried = self.run_region(function, op, region, env, Some(i), params)?;
        }
        Ok(carried)
    }

    /// Takes up to `want` of the spare threads; returns how many it took.
    pub(super) fn take_threads(&self, want: usize) -> usize {
        let mut taken = 0;
        let _ = self.spare_threads.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |spare| {
            taken = spare.min(want);
            Some(spare - taken)
        });
        taken
    }

    /// `map`: every body gets empty accumulators and appends its elements; the results are
    /// the initial lists followed by each body's elements, in input order. Bodies run on up to
    /// `max_parallel` threads; the first failure cancels the rest.
    ///
    /// A map with its own `max_parallel` (the source's `@max_parallel(N)`) runs up to N bodies
    /// at once on threads of its own, whatever the run's `--max-parallel`: the per-map value
    /// overrides it for that map (I/O-bound tools want more than the cores). Maps and
    /// fragments inside its bodies still share the run's spare threads.
    fn run_map(&self, function: &Function, op: &Op, env: &Env<'_>, args: Vec<Value>) -> Result<Vec<Value>, RunError> {
        let initial = args[3.min(args.len())..].to_vec();
        if !initial.iter().all(|v| matches!(v, Value::List(_))) {
            return self.run_for(function, op, env, args);
        }
        let region = op.regions.first().ok_or_else(|| error(op, "internal error: `map` region"))?;
        let indices = Self::indices(op, &args)?;
        let n = indices.len();
        let outputs: Vec<Mutex<Option<Vec<Value>>>> = (0..n).map(|_| Mutex::new(None)).collect();
        let first_error: Mutex<Option<RunError>> = Mutex::new(None);
        let next = AtomicUsize::new(0);
        let worker = || {
            loop {
                if env.cancel.is_cancelled() {
                    break;
                }
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= n {
                    break;
                }
                let mut params = vec![Value::Int(indices[k])];
                params.extend(initial.iter().map(|_| Value::list(Vec::new())));
                match self.run_region(function, op, region, env, Some(indices[k]), params) {
                    Ok(values) => *outputs[k].lock().unwrap() = Some(values),
                    Err(e) => {
                        let mut first = first_error.lock().unwrap();
                        if first.is_none() && e.message != CANCELLED {
                            *first = Some(e);
                        }
                        env.cancel.cancel();
                        break;
                    }
                }
            }
        };
        let own = op.attrs.get("max_parallel").and_then(serde_json::Value::as_u64);
        let extra = match own {
            Some(max) => (max.saturating_sub(1) as usize).min(n.saturating_sub(1)),
            None => self.take_threads(n.saturating_sub(1)),
        };
        if extra == 0 {
            worker();
        } else {
            std::thread::scope(|scope| {
                for _ in 0..extra {
                    scope.spawn(|| {
                        // Bodies beside others: their slices on a trace lane of their own.
                        let _lane = self.trace.map(Trace::lane);
                        worker()
                    });
                }
                worker();
            });
            if own.is_none() {
                self.spare_threads.fetch_add(extra, Ordering::SeqCst);
            }
        }
        if let Some(e) = first_error.into_inner().unwrap() {
            return Err(e);
        }
        if env.cancel.is_cancelled() {
            return Err(error(op, CANCELLED));
        }
        let mut results = initial;
        for output in outputs {
            let values = output.into_inner().unwrap().ok_or_else(|| error(op, "internal error: a `map` body gave no result"))?;
            for (acc, value) in results.iter_mut().zip(values) {
                match (acc, value) {
                    // Moves the body's elements when it holds the only reference (the usual
                    // case), so collecting is linear in the element count.
                    (Value::List(acc), Value::List(items)) => {
                        let items = std::sync::Arc::try_unwrap(items).unwrap_or_else(|shared| shared.as_ref().clone());
                        std::sync::Arc::make_mut(acc).extend(items);
                    }
                    _ => return Err(error(op, "internal error: a `map` body yielded a non-list")),
                }
            }
        }
        Ok(results)
    }
}
