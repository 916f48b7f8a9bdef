import Foundation
import JPKICA
import Logging

/// Structured logs: one JSON object per line on stderr (`time`, `level`, `label`, `message` and the
/// metadata as string fields), for `serve`, whose logs are read by machines as often as by people.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    private static let lock = NSLock()

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("time", Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))),
            ("level", event.level.rawValue), ("label", label), ("message", event.message.description),
        ]
        if let error = event.error { fields.append(("error", "\(error)")) }
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (k, v) in merged.sorted(by: { $0.key < $1.key }) { fields.append((k, "\(v)")) }
        let text = "{" + fields.map { "\(Self.quote($0.0)):\(Self.quote($0.1))" }.joined(separator: ",") + "}\n"
        Self.lock.lock()
        FileHandle.standardError.write(Data(text.utf8))
        Self.lock.unlock()
    }

    /// A JSON string literal, by the same encoder as every resource (keys keep their order above:
    /// time and level first, for people reading the log).
    static func quote(_ s: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return (try? encoder.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "\"?\""
    }
}
