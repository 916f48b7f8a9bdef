// bench-issue: how fast the sandbox signs and stores card certificates, with key generation and the
// PIN hash measured on their own. Uses only the public API of JPKICA (and OpenSSLKit for PBKDF2).
//
//   bench-issue [--cards N] [--config FILE] [--fast-iterations K] [--block B] [--threads T]
//               [--keygen-keys K] [--workers W] [--workdir DIR] [--keep] [--json] [--json-out FILE]
//
// For N cards it: initialises a throw-away sandbox, registers N adult residents, fills a KeyPool
// with 2N RSA-2048 keys on T threads (timed: keys/s), then issues N cards (signing + authentication
// certificate each) twice: once with the configuration as given (its pin_hash_iterations, 50,000 by
// default) using the pool's keys, and once in a second sandbox whose configuration copy sets
// pin_hash_iterations = K (1,000 by default) replaying the same keys, so that the signing+storing
// rate and the cost of the PIN hash can be told apart. Issuance is timed per block of B certificates.
// With --keygen-keys K < 2N, only K keys are generated (and timed) and both runs cycle through them:
// RSA key generation runs about 5 keys/s per core, so 2N keys for N = 10,000 take an hour.
import Foundation
import JPKICA
import OpenSSLKit

// MARK: Options

struct Options {
    var cards = 1000
    var config: URL = {
        // Benchmarks/Sources/bench-issue/main.swift → <repo>/ca-config/sandbox.toml
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ca-config/sandbox.toml")
    }()
    var fastIterations = 1000
    var block = 1000
    var threads = ProcessInfo.processInfo.activeProcessorCount
    var workers = 1
    var workdir: URL?
    var keygenKeys: Int?
    var keygenOnly: Int?
    var keep = false
    var json = false
    var jsonOut: URL?
    var pbkdf2Seconds = 1.0

    static let usage = """
    usage: bench-issue [--cards N] [--config FILE] [--fast-iterations K] [--block B] [--threads T]
                       [--keygen-keys K] [--workers W] [--workdir DIR] [--keep] [--json] [--json-out FILE]
      --cards N            cards to issue (2 certificates each); default 1000
      --config FILE        the sandbox configuration; default <repo>/ca-config/sandbox.toml
      --fast-iterations K  pin_hash_iterations of the second run; default 1000
      --block B            certificates per timing block; default 1000
      --threads T          key generation threads; default: all cores
      --keygen-keys K      keys to generate (timed); default 2N, one per certificate. With fewer,
                           issuance cycles through the K keys (same signing and storing work)
      --keygen-only K      only time KeyPool.fill(K) on T threads and print {"keys", "seconds"} as JSON
      --workers W          threads calling issueCard at once; default 1 (one window)
      --workdir DIR        where the throw-away sandboxes go; default a new folder in $TMPDIR
      --keep               keep the sandboxes
      --json               print the report as JSON instead of a table
      --json-out FILE      also write the report as JSON to FILE
    """

    static func parse(_ args: [String]) -> Options {
        var o = Options()
        var it = args.makeIterator()
        func value(_ flag: String) -> String {
            guard let v = it.next() else { fail("\(flag) needs a value") }
            return v
        }
        func int(_ flag: String) -> Int {
            let v = value(flag)
            guard let i = Int(v.replacingOccurrences(of: "_", with: "")), i > 0 else { fail("\(flag): \(v) is not a positive integer") }
            return i
        }
        while let a = it.next() {
            switch a {
            case "--cards", "-n": o.cards = int(a)
            case "--config": o.config = URL(fileURLWithPath: value(a))
            case "--fast-iterations": o.fastIterations = int(a)
            case "--block": o.block = int(a)
            case "--threads": o.threads = int(a)
            case "--workers": o.workers = int(a)
            case "--workdir": o.workdir = URL(fileURLWithPath: value(a))
            case "--keygen-keys": o.keygenKeys = int(a)
            case "--keygen-only": o.keygenOnly = int(a)
            case "--json-out": o.jsonOut = URL(fileURLWithPath: value(a))
            case "--keep": o.keep = true
            case "--json": o.json = true
            case "-h", "--help": print(usage); exit(0)
            default: fail("unknown argument \(a)\n\(usage)")
            }
        }
        return o
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("bench-issue: \(message)\n".utf8))
    exit(2)
}

func progress(_ message: String) {
    FileHandle.standardError.write(Data("bench-issue: \(message)\n".utf8))
}

/// Monotonic seconds.
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// CPU seconds (user + system) of this process, all threads. Unlike wall time it hardly changes when
/// other work shares the cores, so it is reported next to every rate.
func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

// MARK: Key sources

/// Hands out the pool's keys and remembers them, so the second run can sign the same public keys.
final class RecordingKeys: KeySource, @unchecked Sendable {
    private let base: any KeySource
    private let lock = NSLock()
    private var taken: [PrivateKey] = []
    init(_ base: any KeySource) { self.base = base }
    func nextKey() throws -> PrivateKey {
        let key = try base.nextKey()
        lock.lock(); taken.append(key); lock.unlock()
        return key
    }
    var keys: [PrivateKey] { lock.lock(); defer { lock.unlock() }; return taken }
}

/// Replays recorded keys in order (cycling if asked for more).
final class ReplayKeys: KeySource, @unchecked Sendable {
    private let keys: [PrivateKey]
    private let lock = NSLock()
    private var next = 0
    init(_ keys: [PrivateKey]) { precondition(!keys.isEmpty); self.keys = keys }
    func nextKey() throws -> PrivateKey {
        lock.lock(); defer { lock.unlock() }
        let key = keys[next % keys.count]
        next += 1
        return key
    }
}

// MARK: Report

struct Block: Codable {
    var index: Int
    var certificates: Int
    var seconds: Double
    var certificatesPerSecond: Double
    var msPerCertificate: Double
    var cpuMsPerCertificate: Double
}

struct IssuanceRun: Codable {
    var label: String
    var pinHashIterations: Int
    var keySource: String
    var cards: Int
    var certificates: Int
    var seconds: Double
    var certificatesPerSecond: Double
    var msPerCertificate: Double
    var cpuSeconds: Double
    var cpuMsPerCertificate: Double
    var blocks: [Block]
    var firstBlockCertsPerSecond: Double
    var lastBlockCertsPerSecond: Double
    /// Last block's time per certificate ÷ first block's (1.0 = flat; > 1 = slowing down).
    var lastOverFirstTimePerCert: Double
    /// The same with the best (fastest) of the last k blocks ÷ the best of the first k, k = blocks/5
    /// (at least 1): other work on the machine only adds time, so this is what the code does.
    var bestLastOverBestFirstTimePerCert: Double
    var flatnessWindow: Int
    /// CPU time per certificate, last block ÷ first block.
    var lastOverFirstCPUPerCert: Double
    var databaseBytes: Int64
}

struct PBKDF2Figure: Codable {
    var iterations: Int
    var hashes: Int
    /// Median time of one hash.
    var msPerHash: Double
    var minMsPerHash: Double
    var hashesPerSecond: Double
}

struct Report: Codable {
    var cards: Int
    var cores: Int
    var keygenThreads: Int
    var workers: Int
    var blockSize: Int
    var config: String
    var workdir: String
    var residents: Int
    var residentsSeconds: Double
    var residentsPerSecond: Double
    var keys: Int
    var keygenSeconds: Double
    var keysPerSecond: Double
    var keygenCPUSecondsPerKey: Double
    var pbkdf2: [PBKDF2Figure]
    var runs: [IssuanceRun]
}

// MARK: Measurements

/// Times PBKDF2-HMAC-SHA256 as the sandbox calls it (6-character PIN, 16-byte salt, 32-byte output).
/// The median is reported: other work on the machine only ever adds time, in bursts.
func measurePBKDF2(iterations: Int, seconds: Double) throws -> PBKDF2Figure {
    let salt = try Crypto.randomBytes(16)
    _ = try Crypto.pbkdf2SHA256(password: "ABC123", salt: salt, iterations: iterations)   // warm-up
    var times: [Double] = []
    let start = now()
    while times.count < 5 || now() - start < seconds {
        let t = now()
        _ = try Crypto.pbkdf2SHA256(password: "ABC123", salt: salt, iterations: iterations)
        times.append(now() - t)
    }
    times.sort()
    let median = times[times.count / 2]
    return PBKDF2Figure(iterations: iterations, hashes: times.count, msPerHash: median * 1000, minMsPerHash: times[0] * 1000,
                        hashesPerSecond: 1 / median)
}

/// Adults spread over a few municipalities of the bundled table.
enum People {
    static let surnames = ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村"]
    static let givenNames = ["太郎", "花子", "一郎", "美咲", "健太", "陽子", "翔", "裕子"]
    static let addresses = ["埼玉県川越市元町1丁目3番地1", "静岡県沼津市御幸町16番1号", "東京都板橋区板橋2丁目66番1号", "東京都町田市森野2丁目2番22号"]
}

func registerResidents(_ sandbox: Sandbox, count: Int) throws -> [Int64] {
    let surnames = People.surnames, givenNames = People.givenNames, addresses = People.addresses
    var ids: [Int64] = []
    ids.reserveCapacity(count)
    for i in 0..<count {
        let r = try sandbox.addResident(
            name: "\(surnames[i % surnames.count]) \(givenNames[(i / surnames.count) % givenNames.count])",
            birth: String(format: "%04d-%02d-%02d", 1950 + i % 50, 1 + i % 12, 1 + i % 28),
            sex: i % 2 == 0 ? "male" : "female", address: addresses[i % addresses.count],
            residenceUntil: nil, adultWard: false)
        ids.append(r.id)
    }
    return ids
}

/// Issues one card per resident (signing + authentication certificate), timing blocks of `block` certificates.
func issue(_ sandbox: Sandbox, residents: [Int64], workers: Int, block: Int, label: String, keySource: String) throws -> IssuanceRun {
    /// What the worker threads share; every field is touched only under `lock`.
    final class Shared: @unchecked Sendable {
        let lock = NSLock()
        var nextIndex = 0
        var issued = 0
        var blockMarks: [(certs: Int, time: Double, cpu: Double)] = []
        var failure: (any Error)?
        var lastReport = 0.0
    }
    let shared = Shared()
    let start = now(), cpuStart = cpuSeconds()
    shared.lastReport = start
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while true {
            shared.lock.lock()
            if shared.failure != nil || shared.nextIndex >= residents.count { shared.lock.unlock(); return }
            let id = residents[shared.nextIndex]; shared.nextIndex += 1
            shared.lock.unlock()
            do {
                let result = try sandbox.issueCard(residentID: id, signPIN: "ABC123", authPIN: "1234")
                let t = now()
                shared.lock.lock()
                let before = shared.issued
                shared.issued += result.certificates.count
                if shared.issued / block > before / block { shared.blockMarks.append((shared.issued, t, cpuSeconds())) }
                if t - shared.lastReport > 30 {
                    shared.lastReport = t
                    progress("\(label): \(shared.issued) certificates, \(Int(Double(shared.issued) / (t - start))) certificates/s so far")
                }
                shared.lock.unlock()
            } catch {
                shared.lock.lock(); shared.failure = error; shared.lock.unlock()
                return
            }
        }
    }
    let end = now(), cpuEnd = cpuSeconds()
    if let failure = shared.failure { throw failure }
    let issued = shared.issued, blockMarks = shared.blockMarks

    var blocks: [Block] = []
    var previous = (certs: 0, time: start, cpu: cpuStart)
    for mark in blockMarks + (issued > (blockMarks.last?.certs ?? 0) ? [(issued, end, cpuEnd)] : []) {   // + a partial last block
        let certs = mark.certs - previous.certs
        let seconds = mark.time - previous.time
        blocks.append(Block(index: blocks.count + 1, certificates: certs, seconds: seconds,
                            certificatesPerSecond: Double(certs) / seconds, msPerCertificate: seconds / Double(certs) * 1000,
                            cpuMsPerCertificate: (mark.cpu - previous.cpu) / Double(certs) * 1000))
        previous = mark
    }
    let total = end - start
    let db = sandbox.home.database.path
    var bytes: Int64 = 0
    for suffix in ["", "-wal"] {
        if let size = (try? FileManager.default.attributesOfItem(atPath: db + suffix))?[.size] as? NSNumber { bytes += size.int64Value }
    }
    let first = blocks.first!, last = blocks.last!
    let window = max(1, blocks.count / 5)
    let bestFirst = blocks.prefix(window).map(\.msPerCertificate).min()!
    let bestLast = blocks.suffix(window).map(\.msPerCertificate).min()!
    return IssuanceRun(label: label, pinHashIterations: sandbox.config.pinHashIterations, keySource: keySource,
                       cards: residents.count, certificates: issued, seconds: total,
                       certificatesPerSecond: Double(issued) / total, msPerCertificate: total / Double(issued) * 1000,
                       cpuSeconds: cpuEnd - cpuStart, cpuMsPerCertificate: (cpuEnd - cpuStart) / Double(issued) * 1000,
                       blocks: blocks, firstBlockCertsPerSecond: first.certificatesPerSecond,
                       lastBlockCertsPerSecond: last.certificatesPerSecond,
                       lastOverFirstTimePerCert: last.msPerCertificate / first.msPerCertificate,
                       bestLastOverBestFirstTimePerCert: bestLast / bestFirst, flatnessWindow: window,
                       lastOverFirstCPUPerCert: last.cpuMsPerCertificate / first.cpuMsPerCertificate, databaseBytes: bytes)
}

/// A copy of the configuration with another pin_hash_iterations and an absolute municipality table path.
func configCopy(of file: URL, iterations: Int, into folder: URL) throws -> URL {
    let text = try String(contentsOf: file, encoding: .utf8)
    let folderOfFile = file.deletingLastPathComponent()
    var sawIterations = false, sawTable = false, inSandbox = false
    var out: [String] = []
    for line in text.components(separatedBy: "\n") {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("[") {
            if inSandbox && !sawIterations { out.append("pin_hash_iterations = \(iterations)"); sawIterations = true }
            inSandbox = trimmed == "[sandbox]"
        }
        if inSandbox, trimmed.hasPrefix("pin_hash_iterations") {
            out.append("pin_hash_iterations = \(iterations)"); sawIterations = true; continue
        }
        if inSandbox, trimmed.hasPrefix("municipalities"), let q1 = trimmed.firstIndex(of: "\""), let q2 = trimmed.lastIndex(of: "\""), q1 < q2 {
            let relative = String(trimmed[trimmed.index(after: q1)..<q2])
            let absolute = URL(fileURLWithPath: relative, relativeTo: folderOfFile).standardizedFileURL.path
            out.append("municipalities = \"\(absolute)\""); sawTable = true; continue
        }
        out.append(line)
    }
    if !sawIterations { out.insert("pin_hash_iterations = \(iterations)", at: out.firstIndex(of: "[sandbox]").map { $0 + 1 } ?? 0) }
    if !sawTable {
        let absolute = folderOfFile.appendingPathComponent("municipalities.json").standardizedFileURL.path
        out.insert("municipalities = \"\(absolute)\"", at: (out.firstIndex(of: "[sandbox]") ?? -1) + 1)
    }
    if out.firstIndex(of: "[sandbox]") == nil { out.insert("[sandbox]", at: 0) }
    let copy = folder.appendingPathComponent("sandbox-pin\(iterations).toml")
    try out.joined(separator: "\n").write(to: copy, atomically: true, encoding: .utf8)
    return copy
}

// MARK: Output

func fmt(_ v: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", v) }
func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : String(repeating: " ", count: width - s.count) + s }

func printTable(_ r: Report) {
    print("JPKI Sandbox issuance benchmark — \(r.cards) cards, \(r.cores) cores, config \(r.config)")
    print("  sandboxes in \(r.workdir); keygen on \(r.keygenThreads) threads; issueCard from \(r.workers) thread(s)")
    print("")
    print("  residents registered   \(pad(String(r.residents), 7))  in \(fmt(r.residentsSeconds, 2)) s  = \(fmt(r.residentsPerSecond)) residents/s")
    print("  RSA-2048 keys (KeyPool.fill) \(pad(String(r.keys), 7))  in \(fmt(r.keygenSeconds, 1)) s  = \(fmt(r.keysPerSecond, 1)) keys/s (\(fmt(r.keygenCPUSecondsPerKey * 1000)) ms CPU/key)")
    for p in r.pbkdf2 {
        print("  PBKDF2-SHA256 \(pad(String(p.iterations), 6)) iterations: \(fmt(p.msPerHash, 3)) ms/hash median, \(fmt(p.minMsPerHash, 3)) best (\(p.hashes) hashes, one thread)")
    }
    print("")
    for run in r.runs {
        print("  issuance, \(run.label): pin_hash_iterations = \(run.pinHashIterations), keys \(run.keySource)")
        print("    \(pad("block", 5))  \(pad("certs", 6))  \(pad("seconds", 8))  \(pad("certs/s", 8))  \(pad("ms/cert", 8))  \(pad("CPU ms/cert", 11))")
        for b in run.blocks {
            print("    \(pad(String(b.index), 5))  \(pad(String(b.certificates), 6))  \(pad(fmt(b.seconds, 3), 8))  \(pad(fmt(b.certificatesPerSecond, 1), 8))  \(pad(fmt(b.msPerCertificate, 3), 8))  \(pad(fmt(b.cpuMsPerCertificate, 3), 11))")
        }
        print("    total \(run.certificates) certificates (\(run.cards) cards) in \(fmt(run.seconds, 2)) s = \(fmt(run.certificatesPerSecond, 1)) certificates/s, \(fmt(run.msPerCertificate, 3)) ms/cert, \(fmt(run.cpuMsPerCertificate, 3)) CPU ms/cert")
        print("    first block \(fmt(run.firstBlockCertsPerSecond, 1)) certs/s, last block \(fmt(run.lastBlockCertsPerSecond, 1)) certs/s; time per cert last/first = \(fmt(run.lastOverFirstTimePerCert, 2)), best of last \(run.flatnessWindow) / best of first \(run.flatnessWindow) = \(fmt(run.bestLastOverBestFirstTimePerCert, 2)), CPU time last/first = \(fmt(run.lastOverFirstCPUPerCert, 2)); database \(run.databaseBytes / 1_048_576) MiB")
        print("")
    }
    if r.runs.count == 2 {
        let slow = r.runs[0], fast = r.runs[1]
        let perCertDelta = slow.msPerCertificate - fast.msPerCertificate
        let hashes = r.pbkdf2.first { $0.iterations == slow.pinHashIterations }
        print("  the PIN hash: \(fmt(perCertDelta, 3)) ms/cert between the two runs; PBKDF2 alone at \(slow.pinHashIterations) iterations is \(fmt(hashes?.msPerHash ?? 0, 3)) ms/cert (one hash per certificate, run serially)")
    }
}

// MARK: Main

@main
enum BenchIssue {
    static func main() {
        run(Options.parse(Array(CommandLine.arguments.dropFirst())))
    }
}

func run(_ options: Options) {
    if let k = options.keygenOnly {
        do {
            let pool = KeyPool()
            let t = now(), cpu = cpuSeconds()
            try pool.fill(k, threads: options.threads)
            let seconds = now() - t
            print("{\"keys\": \(pool.count), \"seconds\": \(seconds), \"cpuSeconds\": \(cpuSeconds() - cpu), \"threads\": \(options.threads)}")
            return
        } catch { fail("\(error)") }
    }
    guard FileManager.default.fileExists(atPath: options.config.path) else { fail("no configuration at \(options.config.path) (--config FILE)") }

    let fm = FileManager.default
    let workdir = options.workdir ?? fm.temporaryDirectory.appendingPathComponent("jpki-bench-\(ProcessInfo.processInfo.processIdentifier)-\(Int(Date().timeIntervalSince1970))")
    do {
        try fm.createDirectory(at: workdir, withIntermediateDirectories: true)
        defer { if !options.keep { try? fm.removeItem(at: workdir) } }
        let n = options.cards

        // Two sandboxes: the configuration as given, and a copy with the cheap PIN hash.
        let fastConfig = try configCopy(of: options.config, iterations: options.fastIterations, into: workdir)
        progress("initialising sandboxes in \(workdir.path)")
        let main = try Sandbox.initialize(home: SandboxHome(workdir.appendingPathComponent("default")), configFile: options.config)
        let fast = try Sandbox.initialize(home: SandboxHome(workdir.appendingPathComponent("fast-pin")), configFile: fastConfig)

        // PBKDF2 on its own, at both costs.
        var pbkdf2: [PBKDF2Figure] = []
        for iterations in Array(Set([main.config.pinHashIterations, fast.config.pinHashIterations])).sorted(by: >) {
            pbkdf2.append(try measurePBKDF2(iterations: iterations, seconds: options.pbkdf2Seconds))
        }

        // Residents (timed in the first sandbox; the second gets the same list untimed).
        progress("registering \(n) residents")
        var t = now()
        let mainResidents = try registerResidents(main, count: n)
        let residentsSeconds = now() - t
        let fastResidents = try registerResidents(fast, count: n)

        // (a) key generation.
        let wanted = min(options.keygenKeys ?? 2 * n, 2 * n)
        progress("generating \(wanted) RSA-2048 keys on \(options.threads) threads")
        let pool = KeyPool()
        t = now()
        let keygenCPU0 = cpuSeconds()
        try pool.fill(wanted, threads: options.threads)
        let keygenSeconds = now() - t
        let keygenCPU = cpuSeconds() - keygenCPU0
        let keys = pool.count

        // (b) issuance: default PIN cost with the pool's keys, then the cheap PIN cost with the same keys again.
        let slowSource: String, fastSource: String
        let recording: RecordingKeys?
        if keys >= 2 * n {
            recording = RecordingKeys(pool)
            main.keySource = recording!
            slowSource = "from the KeyPool, one per certificate"
            fastSource = "the same keys replayed"
        } else {
            var drained: [PrivateKey] = []
            for _ in 0..<keys { drained.append(try pool.nextKey()) }
            recording = nil
            main.keySource = ReplayKeys(drained)
            fast.keySource = ReplayKeys(drained)
            slowSource = "\(keys) KeyPool keys cycled"
            fastSource = slowSource
        }
        progress("issuing \(n) cards, pin_hash_iterations = \(main.config.pinHashIterations)")
        let slowRun = try issue(main, residents: mainResidents, workers: options.workers, block: options.block,
                                label: "configured PIN hash", keySource: slowSource)
        if let recording {
            let leftover = pool.count
            if leftover != 0 { progress("warning: \(leftover) pool keys left over (expected 0)") }
            fast.keySource = ReplayKeys(recording.keys)
        }
        progress("issuing \(n) cards, pin_hash_iterations = \(fast.config.pinHashIterations)")
        let fastRun = try issue(fast, residents: fastResidents, workers: options.workers, block: options.block,
                                label: "cheap PIN hash", keySource: fastSource)

        let report = Report(
            cards: n, cores: ProcessInfo.processInfo.activeProcessorCount, keygenThreads: options.threads, workers: options.workers,
            blockSize: options.block, config: options.config.path, workdir: workdir.path,
            residents: n, residentsSeconds: residentsSeconds, residentsPerSecond: Double(n) / residentsSeconds,
            keys: keys, keygenSeconds: keygenSeconds, keysPerSecond: Double(keys) / keygenSeconds,
            keygenCPUSecondsPerKey: keygenCPU / Double(keys),
            pbkdf2: pbkdf2, runs: [slowRun, fastRun])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(report)
        if let out = options.jsonOut { try json.write(to: out) }
        if options.json {
            print(String(decoding: json, as: UTF8.self))
        } else {
            printTable(report)
        }
    } catch {
        fail("\(error)")
    }
}
