//! The `mlirAsyncRuntime*` C ABI that MLIR's `convert-async-to-llvm` lowering calls
//! (/usr/lib/llvm-22/include/mlir/ExecutionEngine/AsyncRuntime.h), implemented here so that
//! compiled kernels run their `scf.forall` tiles (the linear layers of the model functions,
//! split by output rows) in parallel without `libmlir_async_runtime.so` at run time.
//!
//! How a parallel loop runs: `async-parallel-for` (with `async-dispatch=false`) makes the
//! kernel create a group of N tokens and `async.execute` N − 1 blocks of the loop, then run
//! one block itself and await the group; N is at most the worker count
//! ([`mlirAsyncRuntimGetNumWorkerThreads`]) for the one-dimensional loops from 0 by 1
//! (every tiled linear layer's), which `kernel-coarsen-parallel-loops` cut into that many
//! parts before (up to 8 per worker otherwise, as other loops still get). Each `async.execute` is an LLVM coroutine that
//! first calls [`mlirAsyncRuntimeExecute`] with its handle: the handle goes on one task
//! queue, served by `workers − 1` threads started on first use (the machine's cores,
//! [`crate::pool::default_workers`]). A thread that awaits (the kernel's caller) runs
//! queued tasks itself while it waits, so the awaiting thread is one of the workers: one
//! busy thread per core. An idle thread polls briefly before it sleeps ([`SPIN`]), and a
//! thread that queues work or makes something ready wakes sleepers only when there are
//! some, so back-to-back loops of a decode step cost no system call. The thread pool of [`crate::pool`] runs workgroup grids; its
//! workers sleep while a model function (one workgroup) runs, so the two never compete.
//!
//! Objects (tokens, values, groups) are reference counted as the lowering expects (MLIR's
//! own AsyncRuntime.cpp): a group starts with one reference; a token or value with two, one
//! of which belongs to the task that makes it ready and is dropped by `Emplace*`/`Set*Error`
//! (so the task may use it to the end); freed when [`mlirAsyncRuntimeDropRef`] brings the
//! count to zero. Every object starts with the same header, since `AddRef`/`DropRef`
//! receive untyped pointers.

use std::collections::VecDeque;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

/// A coroutine handle and its resume function: one task.
#[derive(Clone, Copy)]
struct Task {
    handle: *mut c_void,
    resume: extern "C" fn(*mut c_void),
}
// SAFETY: a coroutine frame is resumed by exactly one thread at a time (the ABI's contract).
unsafe impl Send for Task {}

/// What becomes of a token's or group's awaiter when it is ready.
enum Awaiter {
    /// Queue this coroutine.
    Resume(Task),
    /// Count one token of this group as done (the token holds a reference to the group).
    Group(*mut Group),
}
// SAFETY: the group pointer is kept alive by the reference the awaiter holds.
unsafe impl Send for Awaiter {}

/// The kind of an object, for `DropRef` to free it with its own type.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    Token,
    Value,
    Group,
}

/// The header every object starts with.
#[repr(C)]
struct Header {
    refs: AtomicI64,
    kind: Kind,
}

/// Readiness shared by tokens and values: set once, then never changed.
struct Readiness {
    ready: AtomicBool,
    error: AtomicBool,
    awaiters: Mutex<Vec<Awaiter>>,
}

impl Readiness {
    fn new() -> Self {
        Readiness { ready: AtomicBool::new(false), error: AtomicBool::new(false), awaiters: Mutex::new(Vec::new()) }
    }

    /// Marks it ready (with `error`), then runs its awaiters and wakes blocked waiters.
    fn set(&self, error: bool) {
        let awaiters = {
            let mut list = lock(&self.awaiters);
            self.error.store(error, Ordering::Release);
            self.ready.store(true, Ordering::Release);
            std::mem::take(&mut *list)
        };
        for awaiter in awaiters {
            match awaiter {
                Awaiter::Resume(task) => push(task),
                Awaiter::Group(group) => unsafe { token_done(group, error) },
            }
        }
        notify();
    }

    /// Adds `awaiter` unless already ready; `false` when it is ready (the caller acts now).
    fn add(&self, awaiter: Awaiter) -> Result<(), Awaiter> {
        let mut list = lock(&self.awaiters);
        if self.ready.load(Ordering::Acquire) {
            return Err(awaiter);
        }
        list.push(awaiter);
        Ok(())
    }

    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}

/// `!async.token`.
#[repr(C)]
pub struct Token {
    header: Header,
    state: Readiness,
}

/// `!async.value<T>`: readiness and the value's storage.
#[repr(C)]
pub struct Value {
    header: Header,
    state: Readiness,
    storage: Box<[u64]>,
}

/// `!async.group`: ready when its `pending` tokens are.
#[repr(C)]
pub struct Group {
    header: Header,
    pending: AtomicI64,
    rank: AtomicI64,
    errors: AtomicI64,
    awaiters: Mutex<Vec<Task>>,
}

/// One of this group's tokens is done.
unsafe fn token_done(group: *mut Group, error: bool) {
    let g = unsafe { &*group };
    if error {
        g.errors.fetch_add(1, Ordering::AcqRel);
    }
    if g.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
        let tasks = std::mem::take(&mut *lock(&g.awaiters));
        for task in tasks {
            push(task);
        }
        notify();
    }
    unsafe { mlirAsyncRuntimeDropRef(group.cast(), 1) };
}

fn group_ready(g: &Group) -> bool {
    g.pending.load(Ordering::Acquire) <= 0
}

/// How long an idle thread (a worker, or the kernel's thread awaiting its tiles) polls for
/// work before it sleeps. A decode step runs about 200 parallel loops, a few to a few
/// hundred microseconds apart (a norm, attention): sleeping between them made every loop
/// a futex wake-up of the other thread, about 330 context switches per SmolLM2 token, and
/// the tiles mostly ran on the caller alone. Polling this long keeps both threads on the
/// loops of a step and costs at most this much CPU when work stops (OpenMP runtimes poll
/// for far longer by default).
const SPIN: Duration = Duration::from_micros(300);

/// Nanoseconds every thread has spent polling for work ([`SPIN`]) since the process began.
static SPUN_NANOS: AtomicU64 = AtomicU64::new(0);

/// Seconds every thread has spent polling for work, idle but on a core, since the process
/// began (the sum over threads). A trace's fragment slices give its growth over the slice
/// (`spin_s`) so that `agentc calibrate` can take it out of the process's CPU time: cores
/// that only poll would run another call's loops (docs/runtime.md, "Trace").
pub fn spun_seconds() -> f64 {
    SPUN_NANOS.load(Ordering::Relaxed) as f64 * 1e-9
}

/// The threads asked for by [`set_threads`] (0: the machine's cores).
static REQUESTED_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many threads run parallel loops (the caller included; 0: the machine's
/// cores). Takes effect only before the first parallel loop runs: an executable calls it
/// with its `--threads` value before it runs `main`.
pub fn set_threads(threads: usize) {
    REQUESTED_THREADS.store(threads, Ordering::Relaxed);
}

/// The task queue and its workers.
struct Executor {
    queue: Mutex<VecDeque<Task>>,
    /// The queue's length, readable without the lock (for polling).
    queued: AtomicUsize,
    wake: Condvar,
    /// Threads blocked on `wake`; changed only with `queue` locked, so a thread that makes
    /// work or readiness and then takes the lock sees every sleeper that missed it.
    sleepers: AtomicUsize,
    workers: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn executor() -> &'static Executor {
    static EXECUTOR: OnceLock<Executor> = OnceLock::new();
    static STARTED: OnceLock<()> = OnceLock::new();
    let ex = EXECUTOR.get_or_init(|| Executor {
        queue: Mutex::new(VecDeque::new()),
        queued: AtomicUsize::new(0),
        wake: Condvar::new(),
        sleepers: AtomicUsize::new(0),
        workers: match REQUESTED_THREADS.load(Ordering::Relaxed) {
            0 => crate::pool::default_workers(),
            n => n,
        },
    });
    STARTED.get_or_init(|| {
        for i in 1..ex.workers {
            let started = std::thread::Builder::new().name(format!("agentc-async-{i}")).spawn(move || run_until(ex, || false));
            // Without the thread, the awaiting threads still run every task themselves.
            drop(started);
        }
    });
    ex
}

fn push(task: Task) {
    let ex = executor();
    {
        let mut queue = lock(&ex.queue);
        queue.push_back(task);
        ex.queued.store(queue.len(), Ordering::Release);
    }
    wake_sleepers(ex);
}

/// Wakes every thread blocked in an await (and the idle workers, which find no task).
fn notify() {
    let ex = executor();
    drop(lock(&ex.queue));
    wake_sleepers(ex);
}

/// Wakes the sleeping threads, if any (a futex call only when one sleeps). The caller has
/// taken and released the queue's lock after making its change, so a thread that checked
/// before the change was already counted as a sleeper.
fn wake_sleepers(ex: &Executor) {
    if ex.sleepers.load(Ordering::SeqCst) > 0 {
        ex.wake.notify_all();
    }
}

/// The next queued task, if any.
fn try_pop(ex: &Executor) -> Option<Task> {
    if ex.queued.load(Ordering::Acquire) == 0 {
        return None;
    }
    let mut queue = lock(&ex.queue);
    let task = queue.pop_front();
    ex.queued.store(queue.len(), Ordering::Release);
    task
}

/// Runs queued tasks until `ready()`: polls for [`SPIN`] when there is nothing to run,
/// then sleeps until woken. A worker runs this with a `ready` that is never true.
fn run_until(ex: &Executor, ready: impl Fn() -> bool) {
    loop {
        if ready() {
            return;
        }
        if let Some(task) = try_pop(ex) {
            (task.resume)(task.handle);
            continue;
        }
        let start = Instant::now();
        let mut busy = false;
        while start.elapsed() < SPIN {
            if ready() || ex.queued.load(Ordering::Acquire) > 0 {
                busy = true;
                break;
            }
            for _ in 0..32 {
                std::hint::spin_loop();
            }
        }
        SPUN_NANOS.fetch_add(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
        if busy {
            continue;
        }
        let queue = lock(&ex.queue);
        if queue.is_empty() && !ready() {
            ex.sleepers.fetch_add(1, Ordering::SeqCst);
            let queue = ex.wake.wait(queue).unwrap_or_else(|e| e.into_inner());
            ex.sleepers.fetch_sub(1, Ordering::SeqCst);
            drop(queue);
        }
    }
}

/// Blocks until `ready()`, running queued tasks meanwhile.
fn block_until(ready: impl Fn() -> bool) {
    run_until(executor(), ready);
}

/// Adds `count` references to an object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeAddRef(ptr: *mut c_void, count: i64) {
    let header = unsafe { &*(ptr as *const Header) };
    header.refs.fetch_add(count, Ordering::AcqRel);
}

/// Drops `count` references; frees the object at zero.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeDropRef(ptr: *mut c_void, count: i64) {
    let header = unsafe { &*(ptr as *const Header) };
    if header.refs.fetch_sub(count, Ordering::AcqRel) != count {
        return;
    }
    match header.kind {
        Kind::Token => drop(unsafe { Box::from_raw(ptr as *mut Token) }),
        Kind::Value => drop(unsafe { Box::from_raw(ptr as *mut Value) }),
        Kind::Group => drop(unsafe { Box::from_raw(ptr as *mut Group) }),
    }
}

/// A new token, not ready, with two references (one is the task's, see the module doc).
#[unsafe(no_mangle)]
pub extern "C" fn mlirAsyncRuntimeCreateToken() -> *mut Token {
    Box::into_raw(Box::new(Token { header: Header { refs: AtomicI64::new(2), kind: Kind::Token }, state: Readiness::new() }))
}

/// A new value of `size` bytes, not ready, with two references (one is the task's).
#[unsafe(no_mangle)]
pub extern "C" fn mlirAsyncRuntimeCreateValue(size: i64) -> *mut Value {
    let words = (size.max(0) as usize).div_ceil(8).max(1);
    Box::into_raw(Box::new(Value {
        header: Header { refs: AtomicI64::new(2), kind: Kind::Value },
        state: Readiness::new(),
        storage: vec![0u64; words].into_boxed_slice(),
    }))
}

/// A new group that is ready once `size` tokens added to it are.
#[unsafe(no_mangle)]
pub extern "C" fn mlirAsyncRuntimeCreateGroup(size: i64) -> *mut Group {
    Box::into_raw(Box::new(Group {
        header: Header { refs: AtomicI64::new(1), kind: Kind::Group },
        pending: AtomicI64::new(size),
        rank: AtomicI64::new(0),
        errors: AtomicI64::new(0),
        awaiters: Mutex::new(Vec::new()),
    }))
}

/// Adds `token` to `group`; returns its rank in the group.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeAddTokenToGroup(token: *mut Token, group: *mut Group) -> i64 {
    let (t, g) = unsafe { (&*token, &*group) };
    let rank = g.rank.fetch_add(1, Ordering::AcqRel);
    unsafe { mlirAsyncRuntimeAddRef(group.cast(), 1) };
    if t.state.add(Awaiter::Group(group)).is_err() {
        unsafe { token_done(group, t.state.error.load(Ordering::Acquire)) };
    }
    rank
}

/// Makes `token` ready and drops the task's reference.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeEmplaceToken(token: *mut Token) {
    unsafe { &*token }.state.set(false);
    unsafe { mlirAsyncRuntimeDropRef(token.cast(), 1) };
}

/// Makes `value` ready and drops the task's reference.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeEmplaceValue(value: *mut Value) {
    unsafe { &*value }.state.set(false);
    unsafe { mlirAsyncRuntimeDropRef(value.cast(), 1) };
}

/// Makes `token` ready with an error and drops the task's reference.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeSetTokenError(token: *mut Token) {
    unsafe { &*token }.state.set(true);
    unsafe { mlirAsyncRuntimeDropRef(token.cast(), 1) };
}

/// Makes `value` ready with an error and drops the task's reference.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeSetValueError(value: *mut Value) {
    unsafe { &*value }.state.set(true);
    unsafe { mlirAsyncRuntimeDropRef(value.cast(), 1) };
}

/// Whether `token` is ready with an error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeIsTokenError(token: *mut Token) -> bool {
    unsafe { &*token }.state.error.load(Ordering::Acquire)
}

/// Whether `value` is ready with an error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeIsValueError(value: *mut Value) -> bool {
    unsafe { &*value }.state.error.load(Ordering::Acquire)
}

/// Whether any token of `group` was an error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeIsGroupError(group: *mut Group) -> bool {
    unsafe { &*group }.errors.load(Ordering::Acquire) > 0
}

/// Blocks until `token` is ready (running queued tasks meanwhile).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeAwaitToken(token: *mut Token) {
    let t = unsafe { &*token };
    block_until(|| t.state.is_ready());
}

/// Blocks until `value` is ready (running queued tasks meanwhile).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeAwaitValue(value: *mut Value) {
    let v = unsafe { &*value };
    block_until(|| v.state.is_ready());
}

/// Blocks until every token of `group` is ready (running queued tasks meanwhile).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeAwaitAllInGroup(group: *mut Group) {
    let g = unsafe { &*group };
    block_until(|| group_ready(g));
}

/// The storage of `value`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeGetValueStorage(value: *mut Value) -> *mut u8 {
    unsafe { (*value).storage.as_mut_ptr().cast() }
}

/// Queues the coroutine `handle` to be resumed on a worker (or an awaiting thread).
#[unsafe(no_mangle)]
pub extern "C" fn mlirAsyncRuntimeExecute(handle: *mut c_void, resume: extern "C" fn(*mut c_void)) {
    push(Task { handle, resume });
}

/// Queues the coroutine once `token` is ready.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeAwaitTokenAndExecute(token: *mut Token, handle: *mut c_void, resume: extern "C" fn(*mut c_void)) {
    let task = Task { handle, resume };
    if unsafe { &*token }.state.add(Awaiter::Resume(task)).is_err() {
        push(task);
    }
}

/// Queues the coroutine once `value` is ready.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeAwaitValueAndExecute(value: *mut Value, handle: *mut c_void, resume: extern "C" fn(*mut c_void)) {
    let task = Task { handle, resume };
    if unsafe { &*value }.state.add(Awaiter::Resume(task)).is_err() {
        push(task);
    }
}

/// Queues the coroutine once every token of `group` is ready.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlirAsyncRuntimeAwaitAllInGroupAndExecute(group: *mut Group, handle: *mut c_void, resume: extern "C" fn(*mut c_void)) {
    let g = unsafe { &*group };
    let task = Task { handle, resume };
    {
        let mut list = lock(&g.awaiters);
        if !group_ready(g) {
            list.push(task);
            return;
        }
    }
    push(task);
}

/// The number of threads that run tasks (the machine's cores), which `async-parallel-for`
/// (`num-workers=-1`) splits a loop by. (The name's typo is the ABI's.)
#[unsafe(no_mangle)]
pub extern "C" fn mlirAsyncRuntimGetNumWorkerThreads() -> i64 {
    executor().workers as i64
}

/// Prints the current thread's id (the ABI's debugging hook).
#[unsafe(no_mangle)]
pub extern "C" fn mlirAsyncRuntimePrintCurrentThreadId() {
    println!("{:?}", std::thread::current().id());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// A fake coroutine frame: resuming it records the thread, spins a little, and makes
    /// its token ready (as a lowered `async.execute` body does).
    struct Frame {
        token: *mut Token,
        threads: *const Mutex<HashSet<std::thread::ThreadId>>,
        runs: *const AtomicUsize,
    }

    extern "C" fn resume(handle: *mut c_void) {
        let frame = unsafe { Box::from_raw(handle as *mut Frame) };
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(20) {
            std::hint::spin_loop();
        }
        unsafe {
            lock(&*frame.threads).insert(std::thread::current().id());
            (*frame.runs).fetch_add(1, Ordering::SeqCst);
            mlirAsyncRuntimeEmplaceToken(frame.token);
        }
    }

    #[test]
    fn a_group_of_tasks_runs_every_task_once_and_awaits_them() {
        let threads = Mutex::new(HashSet::new());
        let runs = AtomicUsize::new(0);
        let n = 16;
        let group = mlirAsyncRuntimeCreateGroup(n);
        for _ in 0..n {
            let token = mlirAsyncRuntimeCreateToken();
            unsafe {
                mlirAsyncRuntimeAddTokenToGroup(token, group);
                mlirAsyncRuntimeDropRef(token.cast(), 1);
            }
            let frame = Box::new(Frame { token, threads: &threads, runs: &runs });
            mlirAsyncRuntimeExecute(Box::into_raw(frame).cast(), resume);
        }
        unsafe {
            mlirAsyncRuntimeAwaitAllInGroup(group);
            assert!(!mlirAsyncRuntimeIsGroupError(group));
            mlirAsyncRuntimeDropRef(group.cast(), 1);
        }
        assert_eq!(runs.load(Ordering::SeqCst), n as usize);
        if crate::pool::default_workers() > 1 {
            assert!(lock(&threads).len() > 1, "the tasks ran on one thread only");
        }
    }

    /// A task that only makes its token ready.
    extern "C" fn ready_at_once(handle: *mut c_void) {
        unsafe { mlirAsyncRuntimeEmplaceToken(handle.cast()) };
    }

    /// A task that makes its token ready after sleeping longer than [`SPIN`], so that
    /// the awaiting thread and the idle worker go to sleep and must be woken.
    extern "C" fn ready_after_a_sleep(handle: *mut c_void) {
        std::thread::sleep(SPIN * 3);
        unsafe { mlirAsyncRuntimeEmplaceToken(handle.cast()) };
    }

    /// Many short loops back to back (a decode step's pattern), some of whose tasks
    /// outlast the polling: every await returns (a lost wake-up would hang here).
    #[test]
    fn back_to_back_groups_with_polling_and_sleeping_all_finish() {
        for round in 0..400 {
            let n = 3;
            let group = mlirAsyncRuntimeCreateGroup(n);
            for i in 0..n {
                let token = mlirAsyncRuntimeCreateToken();
                unsafe { mlirAsyncRuntimeAddTokenToGroup(token, group) };
                // The token's second reference is the task's (dropped by Emplace).
                let task: extern "C" fn(*mut c_void) = if round % 50 == 0 && i == 0 { ready_after_a_sleep } else { ready_at_once };
                mlirAsyncRuntimeExecute(token.cast(), task);
                unsafe { mlirAsyncRuntimeDropRef(token.cast(), 1) };
            }
            unsafe {
                mlirAsyncRuntimeAwaitAllInGroup(group);
                assert!(!mlirAsyncRuntimeIsGroupError(group));
                mlirAsyncRuntimeDropRef(group.cast(), 1);
            }
        }
    }

    #[test]
    fn an_error_token_makes_its_group_an_error() {
        let group = mlirAsyncRuntimeCreateGroup(2);
        let (a, b) = (mlirAsyncRuntimeCreateToken(), mlirAsyncRuntimeCreateToken());
        unsafe {
            mlirAsyncRuntimeAddTokenToGroup(a, group);
            mlirAsyncRuntimeEmplaceToken(a);
            mlirAsyncRuntimeSetTokenError(b);
            mlirAsyncRuntimeAddTokenToGroup(b, group);
            mlirAsyncRuntimeAwaitAllInGroup(group);
            assert!(mlirAsyncRuntimeIsGroupError(group));
            assert!(mlirAsyncRuntimeIsTokenError(b) && !mlirAsyncRuntimeIsTokenError(a));
            for p in [a.cast(), b.cast(), group.cast::<c_void>()] {
                mlirAsyncRuntimeDropRef(p, 1);
            }
        }
    }
}
