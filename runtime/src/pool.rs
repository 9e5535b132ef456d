//! The CPU device's thread pool: runs a kernel's workgroups `0..grid` spread over N workers
//! (the calling thread is one of them) and returns when every workgroup has run.
//!
//! Workers are started once and wait for launches. A launch publishes the kernel; every
//! worker (and the caller) takes the next workgroup id from a shared counter until the grid
//! is done, so uneven workgroups balance themselves. Workgroup order is not defined. One
//! launch at a time uses the workers: a launch made while another is running (a parallel
//! `map` body, a kernel launching from a kernel) runs its workgroups on its own thread, so it
//! never waits for, or deadlocks with, the other. A panicking workgroup does not stop the
//! others; the launch panics once all have finished.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// The default number of workers: the machine's available parallelism (at least 1).
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Workers for a `--max-parallel`-style cap: `min(cap, cores)`, the cores when no cap, and at
/// least 1.
pub fn capped_workers(cap: Option<usize>) -> usize {
    let cores = default_workers();
    cap.map_or(cores, |c| c.min(cores)).max(1)
}

/// A kernel with its lifetime erased; only dereferenced while the launch that owns it waits.
struct KernelPtr(*const (dyn Fn(u64) + Sync));
// SAFETY: the pointee is Sync, and the launch keeps it alive until every worker that
// entered the job has left it (see `ThreadPool::run`).
unsafe impl Send for KernelPtr {}
unsafe impl Sync for KernelPtr {}

struct Job {
    kernel: KernelPtr,
    grid: u64,
    next: AtomicU64,
    sync: Mutex<JobSync>,
    done: Condvar,
}

#[derive(Default)]
struct JobSync {
    closed: bool,
    entered: usize,
    finished: usize,
    panic: Option<Box<dyn std::any::Any + Send>>,
}

impl Job {
    /// Runs workgroups until none is left; keeps the first panic.
    fn work(&self) {
        // SAFETY: see KernelPtr; callers only get here after entering an open job.
        let kernel = unsafe { &*self.kernel.0 };
        loop {
            let id = self.next.fetch_add(1, Ordering::Relaxed);
            if id >= self.grid {
                return;
            }
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| kernel(id))) {
                let mut s = self.sync.lock().unwrap();
                s.panic.get_or_insert(p);
                // Skip the rest of the grid.
                self.next.store(self.grid, Ordering::Relaxed);
            }
        }
    }
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    generation: u64,
    job: Option<Arc<Job>>,
    shutdown: bool,
}

/// A pool of worker threads for kernel launches.
pub struct ThreadPool {
    workers: usize,
    shared: Arc<Shared>,
    launch: Mutex<()>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadPool").field("workers", &self.workers).finish()
    }
}

impl ThreadPool {
    /// A pool of `workers` (at least 1) counting the calling thread: it starts `workers - 1`
    /// threads.
    pub fn new(workers: usize) -> Self {
        let workers = workers.max(1);
        let shared = Arc::new(Shared::default());
        let threads = (1..workers)
            .map(|i| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("agentc-cpu-{i}"))
                    .spawn(move || worker(&shared))
                    .expect("cannot start a worker thread")
            })
            .collect();
        ThreadPool { workers, shared, launch: Mutex::new(()), threads }
    }

    /// A pool with [`default_workers`] workers.
    pub fn with_default_workers() -> Self {
        Self::new(default_workers())
    }

    /// The number of workers, the caller included.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Runs `kernel(id)` for every workgroup id in `0..grid` and returns when all have run.
    /// Panics (after all workgroups have stopped) if a workgroup panicked.
    pub fn run<F: Fn(u64) + Sync>(&self, grid: u64, kernel: F) {
        if grid == 0 {
            return;
        }
        let guard = if self.workers > 1 && grid > 1 { self.launch.try_lock().ok() } else { None };
        if guard.is_none() {
            for id in 0..grid {
                kernel(id);
            }
            return;
        }
        let kernel: &(dyn Fn(u64) + Sync) = &kernel;
        // SAFETY: erase the lifetime; this function does not return (or unwind) before every
        // worker that entered the job has finished, and no worker enters after `closed`.
        let kernel: &'static (dyn Fn(u64) + Sync) = unsafe { std::mem::transmute(kernel) };
        let job = Arc::new(Job {
            kernel: KernelPtr(kernel as *const _),
            grid,
            next: AtomicU64::new(0),
            sync: Mutex::new(JobSync::default()),
            done: Condvar::new(),
        });
        {
            let mut st = self.shared.state.lock().unwrap();
            st.job = Some(job.clone());
            st.generation += 1;
            self.shared.wake.notify_all();
        }
        job.work();
        let panic = {
            let mut s = job.sync.lock().unwrap();
            s.closed = true;
            while s.finished < s.entered {
                s = job.done.wait(s).unwrap();
            }
            s.panic.take()
        };
        self.shared.state.lock().unwrap().job = None;
        drop(guard);
        if let Some(p) = panic {
            resume_unwind(p);
        }
    }
}

fn worker(shared: &Shared) {
    let mut seen = 0;
    loop {
        let job = {
            let mut st = shared.state.lock().unwrap();
            while st.generation == seen && !st.shutdown {
                st = shared.wake.wait(st).unwrap();
            }
            if st.shutdown {
                return;
            }
            seen = st.generation;
            match &st.job {
                Some(job) => job.clone(),
                None => continue,
            }
        };
        {
            let mut s = job.sync.lock().unwrap();
            if s.closed {
                continue;
            }
            s.entered += 1;
        }
        job.work();
        let mut s = job.sync.lock().unwrap();
        s.finished += 1;
        job.done.notify_all();
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.shared.state.lock().unwrap().shutdown = true;
        self.shared.wake.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn every_workgroup_runs_exactly_once() {
        let pool = ThreadPool::new(4);
        for grid in [0u64, 1, 2, 3, 7, 1000] {
            let hits: Vec<AtomicUsize> = (0..grid).map(|_| AtomicUsize::new(0)).collect();
            pool.run(grid, |id| {
                hits[id as usize].fetch_add(1, Ordering::Relaxed);
            });
            assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1), "grid {grid}");
        }
    }

    #[test]
    fn kernels_borrow_the_callers_data() {
        let pool = ThreadPool::new(3);
        let input: Vec<f32> = (0..64).map(|i| i as f32).collect();
        let out: Vec<Mutex<f32>> = (0..8).map(|_| Mutex::new(0.0)).collect();
        for _ in 0..200 {
            pool.run(8, |wg| {
                let rows = &input[wg as usize * 8..][..8];
                *out[wg as usize].lock().unwrap() = rows.iter().sum();
            });
        }
        let sums: Vec<f32> = out.iter().map(|m| *m.lock().unwrap()).collect();
        assert_eq!(sums[0], 28.0);
        assert_eq!(sums[7], (56..64).sum::<i32>() as f32);
    }

    #[test]
    fn uses_several_threads_and_caps_work() {
        let pool = ThreadPool::new(4);
        let threads = Mutex::new(std::collections::HashSet::new());
        pool.run(64, |_| {
            threads.lock().unwrap().insert(std::thread::current().id());
            std::thread::sleep(std::time::Duration::from_millis(2));
        });
        let n = threads.lock().unwrap().len();
        assert!((2..=4).contains(&n), "{n} threads");
        assert_eq!(ThreadPool::new(0).workers(), 1);
        assert_eq!(capped_workers(Some(1)), 1);
        assert_eq!(capped_workers(Some(0)), 1);
        assert_eq!(capped_workers(None), default_workers());
    }

    #[test]
    fn concurrent_and_nested_launches_complete() {
        let pool = ThreadPool::new(3);
        let total = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..50 {
                        pool.run(5, |_| {
                            pool.run(2, |_| {
                                total.fetch_add(1, Ordering::Relaxed);
                            });
                        });
                    }
                });
            }
        });
        assert_eq!(total.load(Ordering::Relaxed), 4 * 50 * 5 * 2);
    }

    #[test]
    fn a_panicking_workgroup_panics_the_launch_and_the_pool_goes_on() {
        let pool = ThreadPool::new(3);
        let result = catch_unwind(AssertUnwindSafe(|| {
            pool.run(16, |id| {
                if id == 5 {
                    panic!("workgroup 5");
                }
            })
        }));
        let msg = result.unwrap_err().downcast::<&str>().map(|b| *b).unwrap_or("");
        assert_eq!(msg, "workgroup 5");
        let count = AtomicUsize::new(0);
        pool.run(10, |_| {
            count.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(count.load(Ordering::Relaxed), 10);
    }
}
