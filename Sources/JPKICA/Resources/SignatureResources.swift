import Foundation
import JPKIDomain
import OpenSSLKit

// What signing and verifying answer (sign, verify, auth respond, auth verify), for the CLI and the API.

private func display(_ d: Date) -> String { ISOTime.display(d) }

/// A verdict on one signature: the signature, the chain to a sandbox root, validity, revocation.
public struct SignatureVerdictResource: Codable, Sendable, Equatable {
    public struct Signer: Codable, Sendable, Equatable {
        public var serial: String
        public var kind: String?
        public var subject: String
        public var notBefore: String
        public var notAfter: String
        // The four basic details, for a signing certificate.
        public var name: String?
        public var dateOfBirth: String?
        public var dateOfBirthCoded: String?
        public var sex: String?
        public var address: String?
    }
    public struct Revocation: Codable, Sendable, Equatable {
        public var source: String
        public var status: String
        public var time: String?
        public var reason: String?
    }
    public var valid: Bool
    public var status: String
    public var message: String
    public var signer: Signer?
    public var signingTime: String?
    public var checkedAt: String
    public var revocation: Revocation?

    public init(_ v: SignatureVerdict) {
        valid = v.status == .valid
        status = v.status.rawValue
        message = v.message
        if let cert = v.signer {
            var s = Signer(serial: cert.serialHex, kind: v.signerKind?.rawValue, subject: cert.subjectText,
                           notBefore: display(cert.notBefore), notAfter: display(cert.notAfter))
            if let d = v.basicDetails {
                s.name = d["name"]
                s.dateOfBirth = d["dateOfBirth"].flatMap(EraDate.decode)?.description
                s.dateOfBirthCoded = d["dateOfBirth"]
                s.sex = d["sex"].map { ["1": "male", "2": "female", "3": "unknown"][$0] ?? $0 }
                s.address = d["address"]
            }
            signer = s
        }
        signingTime = v.signingTime.map(display)
        checkedAt = display(v.checkedAt)
        revocation = v.revocation.map { Revocation(source: $0.source.rawValue, status: $0.status, time: $0.time.map(display), reason: $0.reason) }
    }

    enum CodingKeys: String, CodingKey { case valid, status, message, signer, signingTime, checkedAt, revocation }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(valid, forKey: .valid)
        try c.encode(status, forKey: .status)
        try c.encode(message, forKey: .message)
        try c.encode(signer, forKey: .signer)            // null when there is none
        try c.encode(signingTime, forKey: .signingTime)  // null when the signature carries none
        try c.encode(checkedAt, forKey: .checkedAt)
        try c.encodeIfPresent(revocation, forKey: .revocation)
    }
}

/// The verdict on a filing (e-Tax, e-Gov, PDF): the overall verdict's keys (the first signature that is
/// not valid, else the first), its format, and each signature with its label.
public struct FilingVerdictResource: Codable, Sendable, Equatable {
    public struct Labelled: Codable, Sendable, Equatable {
        public var label: String
        public var verdict: SignatureVerdictResource
        enum CodingKeys: String, CodingKey { case label }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(label, forKey: .label)
            try verdict.encode(to: encoder)
        }
        public init(label: String, verdict: SignatureVerdictResource) { self.label = label; self.verdict = verdict }
        public init(from decoder: any Decoder) throws {
            label = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .label)
            verdict = try SignatureVerdictResource(from: decoder)
        }
    }
    public var format: String
    public var overall: SignatureVerdictResource
    public var signatures: [Labelled]

    public init(_ r: FilingVerification) {
        format = r.format.rawValue
        overall = SignatureVerdictResource(r.overall)
        signatures = r.signatures.map { Labelled(label: $0.label, verdict: SignatureVerdictResource($0.verdict)) }
    }

    enum CodingKeys: String, CodingKey { case format, signatures }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        try overall.encode(to: encoder)
        try c.encode(signatures, forKey: .signatures)
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        signatures = try c.decode([Labelled].self, forKey: .signatures)
        overall = try SignatureVerdictResource(from: decoder)
    }
}

/// What a signature made (sign in each format, auth respond): the fields that apply to its format.
public struct SignatureMadeResource: Codable, Sendable, Equatable {
    public var serial: String
    public var format: String?
    public var file: String?
    public var bytes: Int?
    public var detached: Bool?
    public var references: Int?
    public var field: String?
    public var digestInfo: String?
    /// auth respond: the signature in hexadecimal.
    public var signature: String?
    public var algorithm: String?
    public var signingTime: String?

    public init(serial: String, format: String? = nil, file: String? = nil, bytes: Int? = nil, detached: Bool? = nil,
                references: Int? = nil, field: String? = nil, digestInfo: String? = nil, signature: String? = nil,
                algorithm: String? = nil, signingTime: Date? = nil) {
        self.serial = serial; self.format = format; self.file = file; self.bytes = bytes; self.detached = detached
        self.references = references; self.field = field; self.digestInfo = digestInfo; self.signature = signature
        self.algorithm = algorithm; self.signingTime = signingTime.map(display)
    }
}
