#include "common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace loadcast {
namespace {

TEST(ThreadPool, RunsEveryTaskExactlyOnceOnDistinctWorkers) {
  ThreadPool pool;
  for (int workers : {1, 2, 3, 8}) {
    std::vector<std::atomic<int>> runs(1000);
    std::vector<std::atomic<int>> busy(static_cast<size_t>(workers));
    std::atomic<bool> shared_worker{false};
    pool.run(runs.size(), workers, [&](size_t task, int worker) {
      ASSERT_GE(worker, 0);
      ASSERT_LT(worker, workers);
      // A worker id is used by one thread at a time (per-worker scratch is safe).
      if (busy[static_cast<size_t>(worker)].fetch_add(1) != 0) shared_worker = true;
      ++runs[task];
      --busy[static_cast<size_t>(worker)];
    });
    for (const auto& r : runs) EXPECT_EQ(r.load(), 1) << workers << " workers";
    EXPECT_FALSE(shared_worker.load());
  }
}

TEST(ThreadPool, ThreadsStartOnceAndAreReused) {
  ThreadPool pool;
  // Three workers are the caller and two pool threads, however many loops run.
  for (int i = 0; i < 2000; ++i) pool.run(64, 3, [](size_t, int) {});
  EXPECT_EQ(pool.thread_count(), 2);
}

TEST(ThreadPool, FirstFailureIsRethrownAndLaterTasksAreSkipped) {
  ThreadPool pool;
  std::atomic<int> ran{0};
  // Task 0 fails at once; the others would take 10 s in all.
  EXPECT_THROW(pool.run(10000, 2,
                        [&](size_t task, int) {
                          ++ran;
                          if (task == 0) throw std::runtime_error("task 0");
                          std::this_thread::sleep_for(std::chrono::milliseconds(1));
                        }),
               std::runtime_error);
  EXPECT_LT(ran.load(), 100);
  // The pool still works afterwards.
  std::atomic<int> count{0};
  pool.run(100, 2, [&](size_t, int) { ++count; });
  EXPECT_EQ(count.load(), 100);
}

TEST(ThreadPool, NestedLoopsFinishWithoutDeadlock) {
  ThreadPool pool;
  std::atomic<int> inner{0};
  pool.run(8, 4, [&](size_t, int) { pool.run(100, 4, [&](size_t, int) { ++inner; }); });
  EXPECT_EQ(inner.load(), 800);
  // Inside a batch's worker (a pool thread) a loop runs inline, as worker 0.
  std::atomic<int> not_inline{0};
  auto batch = pool.start(
      2, [&](int) { pool.run(50, 4, [&](size_t, int worker) { not_inline += worker != 0; }); });
  batch.wait();
  EXPECT_EQ(not_inline.load(), 0);
}

TEST(ThreadPool, ParallelForCutsTheSameRangesForTheSameSizes) {
  ThreadPool pool;
  auto cuts = [&](size_t n, int workers, size_t grain) {
    std::mutex m;
    std::set<std::pair<size_t, size_t>> ranges;
    pool.parallel_for(n, workers, grain, [&](size_t b, size_t e) {
      std::lock_guard lock(m);
      ranges.emplace(b, e);
    });
    return ranges;
  };
  const auto a = cuts(10007, 3, 100);
  EXPECT_EQ(a, cuts(10007, 3, 100));
  size_t covered = 0, expected_begin = 0;
  for (const auto& [b, e] : a) {
    EXPECT_EQ(b, expected_begin);
    covered += e - b;
    expected_begin = e;
  }
  EXPECT_EQ(covered, 10007u);
  EXPECT_EQ(a.size(), 3u);
  // Few items for the grain: one range.
  EXPECT_EQ(cuts(150, 8, 100).size(), 1u);
  EXPECT_TRUE(cuts(0, 4, 1).empty());
}

TEST(ThreadPool, BatchRunsBesideTheCallerAndRethrows) {
  ThreadPool pool;
  std::atomic<int> started{0};
  std::atomic<bool> release{false};
  auto batch = pool.start(3, [&](int) {
    ++started;
    while (!release) std::this_thread::yield();
  });
  // The caller goes on while the workers wait for it.
  while (started < 3) std::this_thread::yield();
  release = true;
  batch.wait();

  auto failing = pool.start(2, [](int worker) {
    if (worker == 1) throw std::runtime_error("worker 1");
  });
  EXPECT_THROW(failing.wait(), std::runtime_error);
}

TEST(ThreadPool, ARunBesideABatchGetsItsOwnThreads) {
  ThreadPool pool;
  std::atomic<bool> release{false};
  auto batch = pool.start(2, [&](int) {
    while (!release) std::this_thread::yield();
  });
  std::atomic<int> count{0};
  pool.run(1000, 3, [&](size_t, int) { ++count; });  // must not wait for the batch
  EXPECT_EQ(count.load(), 1000);
  release = true;
  batch.wait();
}

}  // namespace
}  // namespace loadcast
