import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP(S) GET whose body is handed over in chunks as it arrives (URLSession): redirects are followed; a
/// status other than 200, a body shorter than its `Content-Length`, or no byte for `timeout` seconds is a
/// `Failure` naming the address. The caller's `chunk` may throw to stop the transfer (a body larger than expected).
public struct HTTPDownload: Sendable {
    /// Why a download gave no complete body.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var reason: String
        /// The server never answered (name not resolved, connection refused or timed out): later downloads from the
        /// same host would fail the same way.
        public var hostUnreachable: Bool
        public var description: String { reason }
    }

    /// Seconds without a byte (connecting included) before the download is abandoned.
    public var timeout: Double

    public init(timeout: Double = 30) { self.timeout = timeout }

    /// Fetches `url`, calling `progress(received, expected)` and `chunk(data)` for each piece of the body.
    public func get(_ url: URL, progress: @escaping (Int, Int?) -> Void, chunk: @escaping (Data) throws -> Void) throws(Failure) {
        let transfer = Transfer(timeout: timeout, progress: progress, chunk: chunk)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: transfer, delegateQueue: queue)
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)).resume()
        transfer.done.wait()
        try transfer.outcome()
    }

    /// The delegate of one transfer; its callbacks run one at a time on the session's serial queue, and the
    /// waiting thread reads the state only after `done` is signalled.
    private final class Transfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        private let timeout: Double
        private let progress: (Int, Int?) -> Void
        private let chunk: (Data) throws -> Void
        private var status: Int?
        private var expected: Int?
        private var received = 0
        private var chunkError: Error?
        private var transportError: Error?

        init(timeout: Double, progress: @escaping (Int, Int?) -> Void, chunk: @escaping (Data) throws -> Void) {
            self.timeout = timeout
            self.progress = progress
            self.chunk = chunk
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
            status = (response as? HTTPURLResponse)?.statusCode
            expected = response.expectedContentLength >= 0 ? Int(response.expectedContentLength) : nil
            completionHandler(status == 200 ? .allow : .cancel)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            guard chunkError == nil else { return }
            do {
                try chunk(data)
                received += data.count
                progress(received, expected)
            } catch {
                chunkError = error
                dataTask.cancel()
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
            transportError = error
            done.signal()
        }

        func outcome() throws(Failure) {
            if let chunkError { throw Failure(reason: "\(chunkError)", hostUnreachable: false) }
            if let status, status != 200 {
                let name = HTTPURLResponse.localizedString(forStatusCode: status)
                throw Failure(reason: "the server answered HTTP \(status) (\(name))", hostUnreachable: false)
            }
            let ended = "the transfer ended after \(received)\(expected.map { " of \($0)" } ?? "") bytes"
            if let error = transportError as? URLError {
                switch error.code {
                case .timedOut:
                    let seconds = String(format: "%g", timeout)
                    throw Failure(reason: status == nil ? "no answer within the timeout (\(seconds) s)"
                                      : "the server stalled: no byte for \(seconds) s (the timeout) after \(received)\(expected.map { " of \($0)" } ?? "") bytes",
                                  hostUnreachable: status == nil)
                case .cannotFindHost, .cannotConnectToHost, .dnsLookupFailed, .notConnectedToInternet:
                    throw Failure(reason: "cannot reach the server (\(error.localizedDescription))", hostUnreachable: true)
                default:
                    throw Failure(reason: status == nil ? error.localizedDescription : "\(ended) (\(error.localizedDescription))",
                                  hostUnreachable: false)
                }
            }
            if let error = transportError { throw Failure(reason: "\(error)", hostUnreachable: status == nil) }
            if let expected, received != expected { throw Failure(reason: ended, hostUnreachable: false) }
        }
    }
}
