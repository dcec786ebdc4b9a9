import Foundation

/// A task executor that runs every job on a thread of its own pool, which grows whenever all its
/// threads are busy: a job that blocks (a sleep, a process wait, a long SQLite loop) holds one of
/// these threads and never one of the cooperative pool's, which has one thread per core and would
/// leave every other test waiting.
final class ThreadPerJobExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `idle` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var idle = 0

    /// The one pool every blocking test shares; its threads live as long as the test process.
    static let shared = ThreadPerJobExecutor()

    private init() {}

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        // A waiting thread takes each queued job; more jobs than waiting threads need a new thread.
        let needsThread = jobs.count > idle
        if !needsThread { condition.signal() }
        condition.unlock()
        if needsThread { startThread() }
    }

    private func startThread() {
        let thread = Thread { [self] in
            while true {
                condition.lock()
                while jobs.isEmpty {
                    idle += 1
                    condition.wait()
                    idle -= 1
                }
                let job = jobs.removeFirst()
                condition.unlock()
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
