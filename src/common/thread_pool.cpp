#include "common/thread_pool.h"

#include <algorithm>
#include <atomic>

namespace loadcast {

namespace {

// Set on the pool's own threads: a loop started from a task runs inline.
thread_local bool tl_in_pool = false;

// The tasks of one run(): claimed through `next`, counted in `finished`.
struct RunState {
  RunState(size_t n, const std::function<void(size_t, int)>& f) : tasks(n), fn(&f) {}
  const size_t tasks;
  // Valid until every task has finished; a unit that starts later claims
  // nothing and never reads it.
  const std::function<void(size_t, int)>* const fn;
  std::atomic<size_t> next{0};
  std::atomic<size_t> finished{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::condition_variable all_done;
  std::exception_ptr error;  // guarded by mutex
};

// Claims and runs tasks until none is left; after a failure the rest are
// claimed and skipped, so that `finished` still reaches `tasks`.
void drain(RunState& s, int worker) {
  for (size_t t = s.next.fetch_add(1); t < s.tasks; t = s.next.fetch_add(1)) {
    if (!s.failed.load(std::memory_order_relaxed)) {
      try {
        (*s.fn)(t, worker);
      } catch (...) {
        std::lock_guard lock(s.mutex);
        if (!s.error) s.error = std::current_exception();
        s.failed.store(true, std::memory_order_relaxed);
      }
    }
    if (s.finished.fetch_add(1) + 1 == s.tasks) {
      std::lock_guard lock(s.mutex);
      s.all_done.notify_all();
    }
  }
}

}  // namespace

struct ThreadPool::Batch::State {
  ThreadPool* pool = nullptr;
  std::function<void(int)> fn;
  std::mutex mutex;
  std::condition_variable all_done;
  int running = 0;           // guarded by mutex
  std::exception_ptr error;  // guarded by mutex
};

ThreadPool& ThreadPool::shared() {
  // Never destroyed: its threads sit idle at exit, and a thread that ends
  // the process cannot wait on itself.
  static ThreadPool* const pool = new ThreadPool;
  return *pool;
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

int ThreadPool::thread_count() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(threads_.size());
}

void ThreadPool::post(std::vector<Unit> units) {
  {
    std::lock_guard lock(mutex_);
    demand_ += units.size();
    for (auto& unit : units) queue_.push_back(std::move(unit));
    while (threads_.size() < demand_) threads_.emplace_back([this] { work(); });
  }
  wake_.notify_all();
}

void ThreadPool::withdraw(const void* owner) {
  std::lock_guard lock(mutex_);
  std::erase_if(queue_, [&](const Unit& u) { return u.owner == owner; });
}

void ThreadPool::release(size_t units) {
  std::lock_guard lock(mutex_);
  demand_ -= units;
}

void ThreadPool::work() {
  tl_in_pool = true;
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping
    std::function<void()> unit = std::move(queue_.front().fn);
    queue_.pop_front();
    lock.unlock();
    unit();
    lock.lock();
  }
}

void ThreadPool::run(size_t tasks, int workers,
                     const std::function<void(size_t task, int worker)>& fn) {
  if (tasks == 0) return;
  const int n =
      static_cast<int>(std::clamp<size_t>(static_cast<size_t>(std::max(1, workers)), 1, tasks));
  if (n == 1 || tl_in_pool) {
    for (size_t t = 0; t < tasks; ++t) fn(t, 0);
    return;
  }
  auto state = std::make_shared<RunState>(tasks, fn);
  std::vector<Unit> units;
  units.reserve(static_cast<size_t>(n - 1));
  for (int w = 1; w < n; ++w) units.push_back({[state, w] { drain(*state, w); }, state.get()});
  post(std::move(units));
  drain(*state, 0);
  // Every task is claimed: units that have not started would find nothing.
  withdraw(state.get());
  std::unique_lock lock(state->mutex);
  state->all_done.wait(lock, [&] { return state->finished.load() == tasks; });
  release(static_cast<size_t>(n - 1));
  if (state->error) std::rethrow_exception(state->error);
}

void ThreadPool::parallel_for(size_t n, int workers, size_t grain,
                              const std::function<void(size_t begin, size_t end)>& fn) {
  if (n == 0) return;
  const size_t parts = std::clamp<size_t>(static_cast<size_t>(std::max(1, workers)), 1,
                                          std::max<size_t>(1, n / std::max<size_t>(1, grain)));
  const size_t chunk = (n + parts - 1) / parts;
  run(parts, static_cast<int>(parts), [&](size_t part, int) {
    const size_t begin = std::min(n, part * chunk);
    fn(begin, std::min(n, begin + chunk));
  });
}

ThreadPool::Batch ThreadPool::start(int workers, std::function<void(int worker)> fn) {
  Batch batch;
  batch.state_ = std::make_shared<Batch::State>();
  batch.state_->pool = this;
  batch.state_->fn = std::move(fn);
  batch.state_->running = std::max(1, workers);
  std::vector<Unit> units;
  units.reserve(static_cast<size_t>(batch.state_->running));
  for (int w = 0; w < batch.state_->running; ++w) {
    units.push_back({[state = batch.state_, w] {
      std::exception_ptr error;
      try {
        state->fn(w);
      } catch (...) {
        error = std::current_exception();
      }
      state->pool->release(1);
      std::lock_guard lock(state->mutex);
      if (error && !state->error) state->error = error;
      if (--state->running == 0) state->all_done.notify_all();
    }});
  }
  post(std::move(units));
  return batch;
}

ThreadPool::Batch& ThreadPool::Batch::operator=(Batch&& other) noexcept {
  if (this != &other) {
    try {
      wait();
    } catch (...) {
    }
    state_ = std::move(other.state_);
  }
  return *this;
}

ThreadPool::Batch::~Batch() {
  try {
    wait();
  } catch (...) {
  }
}

void ThreadPool::Batch::wait() {
  if (!state_) return;
  const auto state = std::move(state_);
  std::unique_lock lock(state->mutex);
  state->all_done.wait(lock, [&] { return state->running == 0; });
  if (state->error) std::rethrow_exception(state->error);
}

}  // namespace loadcast
