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

// Parses and runs by hand: ArgumentParser's `main()` picks its synchronous overload when called
// from another module's top-level code, which refuses an async root command.
do {
    var command = try JPKISandboxCommand.parseAsRoot()
    if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
    } else {
        try command.run()
    }
} catch {
    JPKISandboxCommand.exit(withError: error)
}
