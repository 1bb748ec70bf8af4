// The process's worker threads. Every parallel loop of loadcast (ingest,
// features, encoding, binning, forest growth, prediction, generation) runs on
// this one pool, so threads start once per process, not once per loop. A
// loop asks for a number of workers; the pool grows to the largest demand.
// Work is cut the same way for the same sizes, and each task writes only its
// own outputs, so results never depend on how many threads ran them.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace loadcast {

class ThreadPool {
 public:
  // The pool of this process.
  static ThreadPool& shared();

  ThreadPool() = default;
  ~ThreadPool();  // joins every thread; REQUIRES: no batch still running
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Runs fn(task, worker) for every task in [0, tasks) on up to `workers`
  // threads, the caller being worker 0; tasks are claimed in order and each
  // runs once. Returns when all have run; rethrows the first exception (the
  // tasks not yet begun are then skipped). Called from inside a task of this
  // pool, it runs the tasks on that thread alone, so loops may nest.
  void run(size_t tasks, int workers, const std::function<void(size_t task, int worker)>& fn);

  // Splits [0, n) into at most `workers` contiguous ranges of at least
  // `grain` items (the same cut for the same n, workers and grain) and runs
  // fn(begin, end) for each, as run() does.
  void parallel_for(size_t n, int workers, size_t grain,
                    const std::function<void(size_t begin, size_t end)>& fn);

  // Workers started by start(): fn(worker) for worker in [0, workers), each
  // on a pool thread, while the caller goes on.
  class Batch {
   public:
    Batch() = default;
    Batch(Batch&&) = default;
    Batch& operator=(Batch&& other) noexcept;
    ~Batch();  // waits, dropping an exception
    // Returns once every worker has returned; rethrows the first exception.
    void wait();

   private:
    friend class ThreadPool;
    struct State;
    std::shared_ptr<State> state_;
  };
  Batch start(int workers, std::function<void(int worker)> fn);

  // Threads started so far (for tests and benchmarks).
  int thread_count() const;

 private:
  struct Unit {
    std::function<void()> fn;
    const void* owner = nullptr;  // the run() it belongs to, if any
  };
  void post(std::vector<Unit> units);
  // Drops the queued units of `owner` that no thread has taken yet.
  void withdraw(const void* owner);
  // Ends the demand of `units` units posted earlier.
  void release(size_t units);
  void work();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Unit> queue_;            // guarded by mutex_
  std::vector<std::thread> threads_;  // guarded by mutex_
  // Units of the loops and batches not yet ended: the pool grows to this
  // many threads, so every unit can run at once.
  size_t demand_ = 0;  // guarded by mutex_
  bool stop_ = false;  // guarded by mutex_
};

// ThreadPool::shared().run / parallel_for.
inline void run_tasks(size_t tasks, int workers,
                      const std::function<void(size_t task, int worker)>& fn) {
  ThreadPool::shared().run(tasks, workers, fn);
}
inline void parallel_for(size_t n, int workers, size_t grain,
                         const std::function<void(size_t begin, size_t end)>& fn) {
  ThreadPool::shared().parallel_for(n, workers, grain, fn);
}

}  // namespace loadcast
