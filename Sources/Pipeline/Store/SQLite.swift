import CSQLite
import Foundation

/// A failed SQLite call: the database file, the statement, SQLite's result code and message.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var code: Int32
    public var message: String
    public var sql: String?

    public var description: String {
        var s = "SQLite error \(code) on \(path): \(message)"
        if let sql { s += "\n  in: \(sql.count > 300 ? String(sql.prefix(300)) + "…" : sql)" }
        return s
    }

    /// The statement was stopped by the connection's progress handler (`setProgressHandler`).
    public var isInterrupt: Bool { code & 0xFF == SQLITE_INTERRUPT }

    /// The database was locked by another connection for longer than the busy timeout.
    public var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }
}

/// A value bound to or read from an SQL statement.
public enum SQLValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .integer(let i): return String(i)
        case .real(let d): return String(d)
        case .text(let s): return s
        case .blob(let b): return "<\(b.count) bytes>"
        }
    }

    public var int: Int? { if case .integer(let i) = self { return Int(i) } else { return nil } }
    public var double: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .real(let d): return d
        default: return nil
        }
    }
    public var string: String? { if case .text(let s) = self { return s } else { return nil } }
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int) { self = .integer(Int64(value)) }
    public init(nilLiteral: ()) { self = .null }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(_ value: String?) { self = value.map(SQLValue.text) ?? .null }
    public init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    public init(_ value: Double?) { self = value.map(SQLValue.real) ?? .null }
}

/// One result row: column names and values.
public struct SQLRow: Sendable {
    public var columns: [String]
    public var values: [SQLValue]

    public subscript(column: String) -> SQLValue {
        guard let i = columns.firstIndex(of: column) else { return .null }
        return values[i]
    }
    public subscript(index: Int) -> SQLValue { index < values.count ? values[index] : .null }
}

private let SQLITE_TRANSIENT_DESTRUCTOR = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One connection to an SQLite database file: WAL journal, a busy timeout so concurrent writers wait rather than
/// fail, prepared statements with typed binds, and transactions that roll back when their body throws.
/// A connection belongs to one thread at a time; open one per thread.
public final class SQLiteConnection {
    public let path: String
    private var handle: OpaquePointer?
    private var progressBox: Unmanaged<ProgressCheck>?

    /// Opens (creating unless `readOnly`) the database at `path`. `immutable`: a read-only file that nothing changes
    /// while it is open (a snapshot), read without any locking, journal or shared memory — safe on a network file
    /// system.
    public init(path: String, readOnly: Bool = false, immutable: Bool = false, busyTimeout: TimeInterval = 60) throws(SQLiteError) {
        self.path = path
        var flags = readOnly || immutable ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        var name = path
        if immutable {
            flags |= SQLITE_OPEN_URI
            let plain = CharacterSet(charactersIn: "/-._~").union(.alphanumerics)
            name = "file:" + (path.addingPercentEncoding(withAllowedCharacters: plain) ?? path) + "?immutable=1"
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(name, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw SQLiteError(path: path, code: rc, message: message, sql: nil)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Int32(min(busyTimeout * 1000, Double(Int32.max))))
        if !readOnly && !immutable {
            // Switching a new database to WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at once (without
            // the busy handler) when another connection is opening it at the same moment: retry until the timeout.
            let deadline = Date().addingTimeInterval(busyTimeout)
            while true {
                do {
                    try execute("PRAGMA journal_mode=WAL")
                    break
                } catch where (error.code & 0xFF) == SQLITE_BUSY && Date() < deadline {
                    usleep(10_000)
                }
            }
            try execute("PRAGMA synchronous=NORMAL")
        }
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit {
        sqlite3_progress_handler(handle, 0, nil, nil)
        progressBox?.release()
        sqlite3_close_v2(handle)
    }

    private func error(_ code: Int32, sql: String?) -> SQLiteError {
        SQLiteError(path: path, code: code, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs one or more statements without results.
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(path: path, code: rc, message: text, sql: sql)
        }
    }

    /// Runs one statement with binds, returning all rows.
    @discardableResult
    public func query(_ sql: String, _ binds: [SQLValue] = []) throws(SQLiteError) -> [SQLRow] {
        var rows: [SQLRow] = []
        try forEach(sql, binds) { rows.append($0) }
        return rows
    }

    /// Runs one statement with binds, returning the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ binds: [SQLValue] = []) throws(SQLiteError) -> Int {
        try forEach(sql, binds) { _ in }
        return Int(sqlite3_changes(handle))
    }

    /// Runs one statement, handing each row to `body` as it is read.
    public func forEach(_ sql: String, _ binds: [SQLValue], _ body: (SQLRow) -> Void) throws(SQLiteError) {
        var statement: OpaquePointer?
        var rest = ""
        var rc = sql.withCString { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v2(handle, text, -1, &statement, &tail)
            if let tail { rest = String(cString: tail) }
            return rc
        }
        guard rc == SQLITE_OK else { throw error(rc, sql: sql) }
        guard let statement else {
            throw SQLiteError(path: path, code: SQLITE_MISUSE, message: "the SQL holds no statement (it is empty or only comments)", sql: sql)
        }
        defer { sqlite3_finalize(statement) }
        if !rest.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";"))).isEmpty {
            throw SQLiteError(path: path, code: SQLITE_MISUSE, message: "only one statement is allowed here; found more after the first", sql: sql)
        }
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == binds.count else {
            throw SQLiteError(path: path, code: SQLITE_RANGE, message: "statement has \(expected) parameters, \(binds.count) values given", sql: sql)
        }
        for (i, value) in binds.enumerated() {
            let index = Int32(i + 1)
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let v): rc = sqlite3_bind_int64(statement, index, v)
            case .real(let v): rc = sqlite3_bind_double(statement, index, v)
            case .text(let v): rc = sqlite3_bind_text(statement, index, v, -1, SQLITE_TRANSIENT_DESTRUCTOR)
            case .blob(let v):
                rc = v.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT_DESTRUCTOR) }
            }
            guard rc == SQLITE_OK else { throw error(rc, sql: sql) }
        }
        let count = Int(sqlite3_column_count(statement))
        let columns = (0..<count).map { String(cString: sqlite3_column_name(statement, Int32($0))) }
        while true {
            rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw error(rc, sql: sql) }
            var values: [SQLValue] = []
            values.reserveCapacity(count)
            for c in 0..<Int32(count) {
                switch sqlite3_column_type(statement, c) {
                case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(statement, c)))
                case SQLITE_FLOAT: values.append(.real(sqlite3_column_double(statement, c)))
                case SQLITE_TEXT: values.append(.text(String(cString: sqlite3_column_text(statement, c))))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(statement, c))
                    if n > 0, let p = sqlite3_column_blob(statement, c) {
                        values.append(.blob(Array(UnsafeRawBufferPointer(start: p, count: n))))
                    } else {
                        values.append(.blob([]))
                    }
                default: values.append(.null)
                }
            }
            body(SQLRow(columns: columns, values: values))
        }
    }

    /// Whether `sql` (one statement) only reads the database, as SQLite judges it.
    public func isReadOnly(_ sql: String) throws(SQLiteError) -> Bool {
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let rc = sql.withCString { sqlite3_prepare_v2(handle, $0, -1, &statement, &tail) }
        guard rc == SQLITE_OK else { throw error(rc, sql: sql) }
        defer { sqlite3_finalize(statement) }
        return statement.map { sqlite3_stmt_readonly($0) != 0 } ?? true
    }

    /// Makes long statements stop when `shouldStop` says so: SQLite calls it every `steps` virtual-machine steps,
    /// and a statement it stops fails with `SQLiteError.isInterrupt`. nil removes the handler.
    public func setProgressHandler(every steps: Int32 = 10_000, _ shouldStop: (@Sendable () -> Bool)?) {
        progressBox?.release()
        progressBox = nil
        guard let shouldStop else {
            sqlite3_progress_handler(handle, 0, nil, nil)
            return
        }
        let box = Unmanaged.passRetained(ProgressCheck(shouldStop))
        progressBox = box
        sqlite3_progress_handler(handle, steps, { context in
            guard let context else { return 0 }
            return Unmanaged<ProgressCheck>.fromOpaque(context).takeUnretainedValue().shouldStop() ? 1 : 0
        }, box.toOpaque())
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    public var userVersion: Int {
        get throws(SQLiteError) { try query("PRAGMA user_version").first?[0].int ?? 0 }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws. `immediate` takes
    /// the write lock up front (waiting up to the busy timeout), so two writers never deadlock on upgrade. Inside
    /// another transaction it is a savepoint of it, rolled back alone when `body` throws.
    public func transaction<T>(immediate: Bool = true, _ body: () throws -> T) throws -> T {
        let nested = sqlite3_get_autocommit(handle) == 0
        try execute(nested ? "SAVEPOINT nested" : immediate ? "BEGIN IMMEDIATE" : "BEGIN")
        do {
            let result = try body()
            try execute(nested ? "RELEASE nested" : "COMMIT")
            return result
        } catch {
            try? execute(nested ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK")
            throw error
        }
    }
}

/// The closure a connection's progress handler calls, boxed for SQLite's C callback.
private final class ProgressCheck {
    let shouldStop: @Sendable () -> Bool
    init(_ shouldStop: @escaping @Sendable () -> Bool) { self.shouldStop = shouldStop }
}
