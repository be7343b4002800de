import Foundation

/// One coordinator per results directory when workers compute: a run that hands units to workers refuses to start
/// while another run on the same directory is alive (`RunLiveness`), and a local run refuses while a worker-driven
/// one is — two coordinators would submit the same units twice. Local runs beside local runs keep sharing cells
/// through their claims, as before.
enum CoordinatorLock {
    static func check(_ store: Store, executor: Executor, continuing: Int?) throws {
        let me = ProcessIdentity.current
        for run in try store.runs() where run.status == "running" && !RunLiveness.isGone(run) {
            if let process = run.process, process.pid == me.pid, process.host == me.host { continue }
            let theirs = try store.runExecutor(run.id)
            if executor.isLocal && theirs == "local" { continue }
            let started = Date(timeIntervalSince1970: run.startedAt).formatted(.iso8601)
            throw PlanError("""
                \(store.directory.path) is being coordinated by run \(run.id) of \(run.name) (\(theirs) executor, \
                \(run.process.map(\.description) ?? "another process"), started \(started)): a second coordinator would hand out \
                its units twice. Wait for it to finish, or stop it (Ctrl-C; its workers' jobs keep running) and take over with \
                `reptune resume \(store.directory.path)`
                """)
        }
    }
}
