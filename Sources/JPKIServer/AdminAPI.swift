import Foundation
import HTTPTypes
import Hummingbird
import JPKICA
import JPKIDomain
import JPKIStore
import Logging
import NIOCore

/// Who may reach the admin API (`serve --admin-access`): loopback peers only (the default), anyone
/// (behind `--tls-cert`/`--tls-key`, for a team's CI), or nobody (the routes answer 404).
public enum AdminAccess: String, Sendable, CaseIterable {
    case loopback, any, off
}

/// The admin API under `/admin/v1/` (docs/api.md, docs/openapi.json): JSON in and out, bearer tokens
/// with roles, each call run by the same `JPKICA` services the CLI commands call, with the token's
/// name in the audit. It knows HTTP, bodies and roles; the rules are the services'.
///
/// Routes are a table (`AdminAPI.routes`) rather than Hummingbird router entries, so that 404/405 and
/// every refusal keep the JSON error body, and so that a test can hold the table against the OpenAPI
/// document.
public struct AdminAPI: Sendable {
    public static let prefix = "/admin/v1"
    /// Request bodies above this are refused (413) without being read: the largest real body is a few hundred bytes.
    public static let maximumBodyBytes = 64 * 1024

    let sandbox: Sandbox
    let access: AdminAccess
    let logger: Logger

    public init(sandbox: Sandbox, access: AdminAccess = .loopback, logger: Logger) {
        self.sandbox = sandbox; self.access = access; self.logger = logger
    }

    /// Every route as the OpenAPI document writes it ("GET /admin/v1/residents/{id}") with the role it
    /// needs (nil: public), for the test that holds the two together.
    public static var routeTable: [(signature: String, role: String?)] {
        routes.map { ("\($0.method.rawValue) \($0.template)", $0.role?.rawValue) }
    }

    // MARK: answering

    public func respond(to request: Request, remote: SocketAddress?) async -> (Response, String) {
        guard access != .off else {
            return (Self.error(SandboxError.notFound("the admin API is off (serve --admin-access off)"), status: .notFound), "/admin/v1/off")
        }
        if access == .loopback && !Self.isLoopback(remote) {
            return (Self.error(SandboxError("forbidden", "the admin API answers loopback clients only; start serve with --admin-access any (and --tls-cert/--tls-key) to open it"),
                               status: .forbidden), "/admin/v1/remote")
        }
        let path = request.uri.path
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var pathMatched = false
        var allowed: [String] = []
        for route in Self.routes {
            guard let params = route.match(segments) else { continue }
            pathMatched = true
            allowed.append(route.method.rawValue)
            guard route.method == request.method else { continue }
            return (await run(route, params: params, request: request), route.template)
        }
        if pathMatched {
            var r = Self.error(SandboxError("method-not-allowed", "\(request.method.rawValue) is not allowed on \(path); allowed: \(allowed.joined(separator: ", "))"),
                               status: .methodNotAllowed)
            r.headers[.allow] = allowed.joined(separator: ", ")
            return (r, "/admin/v1/unmatched")
        }
        return (Self.error(SandboxError.notFound("no admin route \(path); GET /admin/v1/openapi.json lists them"), status: .notFound), "/admin/v1/unmatched")
    }

    func run(_ route: AdminRoute, params: [String: String], request: Request) async -> Response {
        var actor: String?
        do {
            if let needed = route.role {
                let (name, role) = try authenticate(request)
                actor = name
                guard role.allows(needed) else {
                    let response = Self.error(SandboxError("forbidden", "the token \(name) is a \(role.rawValue); \(request.method.rawValue) \(route.template) needs \(needed.rawValue)"),
                                              status: .forbidden)
                    await audit(request, actor: name, status: 403)
                    return response
                }
            }
            let body = try await Self.readBody(request)
            let call = AdminCall(sandbox: sandbox, actor: actor, params: params, query: Self.query(request), body: body,
                                 contentType: request.headers[.contentType])
            var response = try await route.handler(call)
            response.headers[.cacheControl] = response.headers[.cacheControl] ?? "no-store"
            if let actor { await audit(request, actor: actor, status: response.status.code) }
            return response
        } catch {
            let e = SandboxError.from(error)
            let status = Self.status(for: e.code)
            if status.code >= 500 { logger.error("admin API call failed", metadata: ["path": "\(request.uri.path)", "error": "\(e.message)"]) }
            var response = Self.error(e, status: status)
            if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"jpki-sandbox\"" }
            if status == .contentTooLarge { response.headers[.connection] = "close" }
            if let actor { await audit(request, actor: actor, status: status.code) }
            return response
        }
    }

    /// The token of `Authorization: Bearer …`, looked up by its hash; 401 when absent, unknown or revoked.
    func authenticate(_ request: Request) throws -> (String, TokenRole) {
        guard let header = request.headers[.authorization] else {
            throw SandboxError("unauthorized", "send a token: Authorization: Bearer <token> (jpki-sandbox token create --name NAME --role viewer|operator|admin)")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
              let found = try sandbox.authenticate(token: parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw SandboxError("unauthorized", "the token is unknown or revoked")
        }
        return found
    }

    func audit(_ request: Request, actor: String, status: Int) async {
        let sandbox = self.sandbox, method = request.method.rawValue, path = String(request.uri.path.prefix(200))
        do {
            try await Blocking.run { try AuditActor.$name.withValue(actor) { try sandbox.auditAPICall(method: method, path: path, status: status) } }
        } catch {
            logger.error("could not audit an admin API call", metadata: ["error": "\(error)"])
        }
    }

    static func readBody(_ request: Request) async throws -> Data {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximumBodyBytes {
            throw SandboxError("too-large", "a request body must be under \(maximumBodyBytes) bytes")
        }
        do {
            return Data(buffer: try await request.body.collect(upTo: maximumBodyBytes))
        } catch is NIOTooManyBytesError {
            throw SandboxError("too-large", "a request body must be under \(maximumBodyBytes) bytes")
        }
    }

    static func query(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in request.uri.queryParameters { out[String(k)] = String(v) }
        return out
    }

    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let address else { return false }
        switch address {
        case .v4: return address.ipAddress?.hasPrefix("127.") ?? false
        case .v6: return address.ipAddress == "::1" || (address.ipAddress?.hasPrefix("::ffff:127.") ?? false)
        case .unixDomainSocket: return true
        }
    }

    // MARK: errors

    /// Each error code of the CLI (and of the API's own refusals) is answered with one HTTP status.
    public static let statusByCode: [String: Int] = [
        "bad-arguments": 400, "invalid-input": 400, "bad-date": 400,
        "unauthorized": 401,
        "forbidden": 403,
        "not-found": 404,
        "method-not-allowed": 405,
        "refused": 409, "exists": 409, "audit-broken": 409,
        "too-large": 413,
        "unsupported-media-type": 415,
        "wrong-pin": 422,
        "pin-locked": 423,
        "internal": 500, "corrupt": 500, "io": 500, "config": 500,
        "no-sandbox": 503,
    ]

    public static func status(for code: String) -> HTTPResponse.Status {
        HTTPResponse.Status(code: statusByCode[code] ?? 422)
    }

    static func error(_ e: SandboxError, status: HTTPResponse.Status) -> Response {
        json(ErrorResource(e), status: status)
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? ResourceJSON.data(value)) ?? Data(#"{"error":{"code":"internal","message":"could not encode the answer"}}"#.utf8)
        var bytes = ByteBuffer(bytes: data)
        bytes.writeString("\n")
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: bytes))
    }
}

/// One route of the admin API: method, path template (`{name}` segments), the role it needs (nil:
/// public) and what it does.
public struct AdminRoute: Sendable {
    public let method: HTTPRequest.Method
    public let template: String
    public let role: TokenRole?
    let handler: @Sendable (AdminCall) async throws -> Response
    let segments: [String]

    public init(_ method: HTTPRequest.Method, _ template: String, _ role: TokenRole?, _ handler: @escaping @Sendable (AdminCall) async throws -> Response) {
        self.method = method; self.template = template; self.role = role; self.handler = handler
        segments = template.split(separator: "/").map(String.init)
    }

    func match(_ path: [String]) -> [String: String]? {
        guard path.count == segments.count else { return nil }
        var params: [String: String] = [:]
        for (pattern, value) in zip(segments, path) {
            if pattern.hasPrefix("{") && pattern.hasSuffix("}") {
                guard let decoded = value.removingPercentEncoding, !decoded.isEmpty else { return nil }
                params[String(pattern.dropFirst().dropLast())] = decoded
            } else if pattern != value {
                return nil
            }
        }
        return params
    }
}

/// What a handler gets: the sandbox, the token's name, path and query parameters and the raw body.
public struct AdminCall: Sendable {
    public let sandbox: Sandbox
    public let actor: String?
    public let params: [String: String]
    public let query: [String: String]
    public let body: Data
    public let contentType: String?

    /// Runs CA services off the cooperative pool with the token's name bound for their audit entries.
    public func run<T: Sendable>(_ work: @escaping @Sendable (Sandbox) throws -> T) async throws -> T {
        let sandbox = self.sandbox, actor = self.actor
        return try await Blocking.run { try AuditActor.$name.withValue(actor) { try work(sandbox) } }
    }

    /// The JSON body as `T`: one object, only the fields `T` knows, each of its type; an empty body is `{}`.
    public func decode<T: AdminBody>(_ type: T.Type) throws -> T {
        if !body.isEmpty, let contentType,
           contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() != "application/json" {
            throw SandboxError("unsupported-media-type", "send the body as application/json, not \(contentType)")
        }
        let data = body.isEmpty ? Data("{}".utf8) : body
        guard let object = (try? JSONSerialization.jsonObject(with: data, options: [])) as? [String: Any] else {
            throw SandboxError("bad-arguments", "the body must be one JSON object")
        }
        let unknown = Set(object.keys).subtracting(T.fields).sorted()
        if !unknown.isEmpty {
            throw SandboxError("bad-arguments", "unknown field\(unknown.count > 1 ? "s" : "") \(unknown.joined(separator: ", ")); this call takes \(T.fields.sorted().joined(separator: ", "))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            throw SandboxError("bad-arguments", "\(Self.field(context)) must be \(Self.typeName(type))")
        } catch let DecodingError.keyNotFound(key, _) {
            throw SandboxError("bad-arguments", "the field \(key.stringValue) is required")
        } catch {
            throw SandboxError("bad-arguments", "the body does not match this call: \(error)")
        }
    }

    static func field(_ context: DecodingError.Context) -> String {
        context.codingPath.isEmpty ? "the body" : "the field " + context.codingPath.map(\.stringValue).joined(separator: ".")
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is String?.Type: "a string"
        case is Bool.Type, is Bool?.Type: "true or false"
        case is Int.Type, is Int64.Type, is Int?.Type, is Int64?.Type: "a whole number"
        default: "\(type)"
        }
    }

    public func param(_ name: String) -> String { params[name] ?? "" }

    /// A path id: a whole number from 0 up.
    public func id(_ name: String = "id") throws -> Int64 {
        guard let v = Int64(param(name)), v >= 0 else { throw SandboxError.invalid("\(name) must be a whole number from 0 up, not \"\(param(name))\"") }
        return v
    }

    /// An integer query parameter within bounds, or the default.
    public func queryInt(_ name: String, default value: Int?, range: ClosedRange<Int>) throws -> Int? {
        guard let text = query[name] else { return value }
        guard let v = Int(text), range.contains(v) else {
            throw SandboxError.invalid("the query parameter \(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \"\(text)\"")
        }
        return v
    }
}

/// A request body: decoded strictly (unknown fields refused), `fields` naming what it takes.
public protocol AdminBody: Decodable {
    static var fields: Set<String> { get }
}
