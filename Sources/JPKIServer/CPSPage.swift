import Foundation
import JPKICA

/// The page behind the CPS URL that every certificate's policy qualifier names: what the sandbox is,
/// in Japanese and English. Relying parties and people who follow the URL from a certificate viewer
/// land here; it is not J-LIS's Certification Practice Statement and says so.
enum CPSPage {
    /// The paths served: `/cps`, and the path of each root's configured CPS URL.
    static func paths(_ sandbox: Sandbox) -> Set<String> {
        var paths: Set<String> = ["/cps"]
        for url in [sandbox.config.sign.cpsURL, sandbox.config.auth.cpsURL] {
            if let path = URLComponents(string: url)?.path, path.hasPrefix("/"), path.count > 1 { paths.insert(path) }
        }
        return paths
    }

    static func html(_ sandbox: Sandbox) -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let c = sandbox.config
        return """
        <!DOCTYPE html>
        <html lang="ja">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>JPKI Sandbox — 認証業務運用規程について / About the certification practice statement</title></head>
        <body>
        <main>
        <section lang="ja">
        <h1>JPKI Sandbox（テスト用認証局）</h1>
        <p>この証明書は <strong>JPKI Sandbox</strong> が発行した<strong>テスト用</strong>の電子証明書です。
        地方公共団体情報システム機構（J-LIS）の公的個人認証サービスが発行したものではなく、本人確認や電子署名の法的効力はありません。</p>
        <p>証明書の構造（署名用電子証明書の基本4情報、利用者証明用電子証明書）、有効期間、失効の扱いは公的個人認証サービスに倣っていますが、
        発行者名は <code>O=JPKI-SANDBOX</code> で、本番のルート証明書とは鍵が異なります。</p>
        <ul>
        <li>署名用ポリシー OID: <code>\(esc(c.sign.policyOID))</code></li>
        <li>利用者証明用ポリシー OID: <code>\(esc(c.auth.policyOID))</code></li>
        <li>ルート証明書: <a href="/ca/sign-root.pem">署名用</a>、<a href="/ca/auth-root.pem">利用者証明用</a></li>
        <li>失効リスト: <a href="/crl/sign.crl">署名用</a>、<a href="/crl/auth.crl">利用者証明用</a>、OCSP: <code>\(esc(c.effectiveOCSPURL))</code></li>
        </ul>
        </section>
        <section lang="en">
        <h1>JPKI Sandbox (a test certification authority)</h1>
        <p>This certificate was issued by <strong>JPKI Sandbox</strong> for <strong>testing</strong>. It was not issued by
        J-LIS's public personal authentication service (JPKI) and proves no identity; signatures made with it have no legal effect.</p>
        <p>Its structure (the signing certificate with the four basic details, the authentication certificate without them),
        validity and revocation follow JPKI, but the issuer is <code>O=JPKI-SANDBOX</code> and the roots' keys are the sandbox's own.</p>
        <ul>
        <li>Signing policy OID: <code>\(esc(c.sign.policyOID))</code></li>
        <li>Authentication policy OID: <code>\(esc(c.auth.policyOID))</code></li>
        <li>Roots: <a href="/ca/sign-root.pem">signing</a>, <a href="/ca/auth-root.pem">authentication</a></li>
        <li>CRLs: <a href="/crl/sign.crl">signing</a>, <a href="/crl/auth.crl">authentication</a>; OCSP: <code>\(esc(c.effectiveOCSPURL))</code></li>
        </ul>
        </section>
        </main>
        </body>
        </html>

        """
    }
}
