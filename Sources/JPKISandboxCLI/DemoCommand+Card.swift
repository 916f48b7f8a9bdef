import Foundation
import JPKICA
import JPKICard
import Logging

extension DemoCommand {
    /// The demo's last step: the first card in pcscd's virtual reader, read by OpenSC's `pkcs15-tool`,
    /// when pcscd with vpcd runs here and its slot 0 is free; otherwise how to get there.
    func virtualCard(sandbox: Sandbox, cardID: Int64) async {
        say("\n5. The card in a smart-card reader (PC/SC), as integrators' software reaches it:")
        let readers = tool("/usr/bin/opensc-tool", ["-l"]) ?? ""
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/pkcs15-tool"),
              let slot0 = readers.split(separator: "\n").first(where: { $0.contains("Virtual PCD 00 00") }) else {
            say("""
               pcscd with vsmartcard's virtual reader is not running here. Start it with
                 scripts/pcsc start          # installs pcscd vsmartcard-vpcd opensc pcsc-tools when missing
               then: jpki-sandbox card insert \(cardID) --home \(sandbox.home.url.path) &  and  pkcs15-tool -D
               (docs/virtual-card.md)
            """)
            return
        }
        guard slot0.contains(" No ") else {
            say("   reader slot 0 already holds a card; see docs/virtual-card.md to insert this one in slot 1")
            return
        }
        var logger = Logger(label: "jpki-sandbox.demo.card")
        logger.logLevel = .warning
        let reader = VirtualCardReader(host: "127.0.0.1", port: 35963, services: SandboxCardServices(sandbox: sandbox, cardID: cardID), logger: logger)
        let serving = Task { await reader.run() }
        defer { reader.stop() }
        var present = false
        for _ in 0..<50 where !present {
            try? await Task.sleep(for: .milliseconds(100))
            present = tool("/usr/bin/opensc-tool", ["--reader", "0", "--atr"]).map { $0.contains("3b:e0:00:ff:81:31:fe:45:14") } ?? false
        }
        guard present else {
            say("   pcscd did not see the card; try `jpki-sandbox card insert \(cardID)` by hand")
            return
        }
        say("""
           $ jpki-sandbox card insert \(cardID) &     (done in this process)
           $ pkcs15-tool --reader 0 -D                # OpenSC's JPKI driver: the PINs with their tries, the certificates
        """)
        let dump = tool("/usr/bin/pkcs15-tool", ["--reader", "0", "-D"]) ?? ""
        var keep = true
        for line in dump.split(separator: "\n", omittingEmptySubsequences: false) {
            // The PINs and certificates; the key objects are long and say little here.
            if line.hasPrefix("Private RSA Key") || line.hasPrefix("Public RSA Key") { keep = false }
            if line.hasPrefix("PIN [") || line.hasPrefix("X.509 Certificate") || line.hasPrefix("PKCS#15") { keep = true }
            if keep && !line.isEmpty { say("     \(line)") }
        }
        say("   Signing through PKCS#11: pkcs11-tool --module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so --slot-index 1 --login --pin ABC123 --sign --id 02 -m SHA256-RSA-PKCS -i FILE -o FILE.sig")
        reader.stop()
        await serving.value
    }

    /// Runs a tool and returns what it printed (stdout and stderr), or nil when it cannot run.
    func tool(_ path: String, _ arguments: [String]) -> String? {
        guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
