import ArgumentParser
import Foundation
import JPKICA
import JPKIDomain

/// `crl generate`: the CRLs of both roots as files, the same the server publishes.
struct CRLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crl", abstract: "Certificate revocation lists (失効リスト) of the two roots.",
        subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the current CRLs: DIR/sign.crl, DIR/auth.crl and each municipality's partition DIR/{sign,auth}/<code>.crl (DER).",
            discussion: """
            X.509 v2 CRLs signed by each root: every revoked certificate with its date and reason, suspended ones as \
            certificateHold. The full CRL lists all of a root's revocations; a partition lists those of one municipality \
            and carries an issuingDistributionPoint equal to the CRL distribution point in its certificates. cRLNumbers \
            are reserved in the database first, so they only ever increase, across runs and processes (`serve` too). \
            After `ca rollover`, every root generation N signs its own: DIR/sign-gN.crl and DIR/sign-gN/<code>.crl \
            (generation 1's partitions stay DIR/sign/<code>.crl; DIR/sign.crl is the current generation's).
            Check one: openssl crl -inform DER -in DIR/sign.crl -CAfile HOME/sign-root.pem -noout -text
            """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Folder to write into (created when missing).") var out: String
        @Flag(help: "Only the two full CRLs, no partitions.") var noPartitions = false

        func run() throws {
            try global.run {
                let sandbox = try global.openSandbox()
                let crls = try sandbox.generateCRLs(partitions: !noPartitions)
                let folder = URL(fileURLWithPath: out)
                _ = try Sandbox.writeCRLs(crls, to: folder)
                return CRLGenerationResource(out: folder.standardizedFileURL.path, crls: crls.map { crl in
                    CRLFileResource(kind: crl.kind.rawValue, scope: crl.municipalityCode ?? "full", generation: crl.generation,
                                    file: folder.appendingPathComponent(crl.path).path,
                                    number: crl.number, entries: crl.entries, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate)
                })
            }
        }
    }
}
