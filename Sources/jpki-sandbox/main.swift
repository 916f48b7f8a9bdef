import ArgumentParser
import Foundation
import JPKISandboxCLI
import Logging

// Logs go to stderr, so that stdout carries only the answer (`--json` stays parseable).
let level = ProcessInfo.processInfo.environment["JPKI_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = level
    return handler
}

// Parses and runs by hand so that async commands (serve, demo) are awaited here, on no blocked thread.
// A parse error is reported here, as JSON under `--json` (the CLI contract).
var command = JPKISandboxCommand.parseOrReport()
do {
    if let asyncCommand = command as? any AsyncCommand {
        try await asyncCommand.runAsync()
    } else {
        try command.run()
    }
} catch {
    JPKISandboxCommand.exit(withError: error)
}
