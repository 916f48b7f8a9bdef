import Mustache

// The console's pages as mustache templates, compiled into the binary (a copied `jpki-sandbox` needs no
// resource folder beside it). Every value is written with {{ }}, which escapes HTML; the one {{{ }}}
// is the layout's `body`, itself the output of one of these templates.

enum ConsoleTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in sources {
            do { try library.register(text, named: name) } catch { fatalError("console template \(name): \(error)") }
        }
        return library
    }()

    static let sources: [String: String] = [
        "layout": layout, "signin": signin, "home": home, "resident": resident, "requests": requests,
        "notices": notices, "audit": audit, "clock": clock, "scenarios": scenarios, "downloads": downloads,
        "confirm": confirm, "message": message,
    ]

    /// Hidden CSRF field of every POST form.
    static let csrf = #"<input type="hidden" name="csrf" value="{{csrf}}">"#

    static let layout = """
    <!DOCTYPE html>
    <html lang="{{lang}}">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{pageTitle}} — {{t.title}}</title>
    <link rel="stylesheet" href="/console/console.css">
    </head>
    <body>
    <a class="skip" href="#main">{{t.skip}}</a>
    <header>
    <p class="brand"><a href="/console/">{{t.title}}</a></p>
    <p class="langs">{{t.language}}: <a href="?lang=ja" lang="ja" hreflang="ja"{{#isJa}} aria-current="true"{{/isJa}}>日本語</a> | <a href="?lang=en" lang="en" hreflang="en"{{^isJa}} aria-current="true"{{/isJa}}>English</a></p>
    {{#user}}
    <nav aria-label="{{t.nav}}"><ul>
    <li><a href="/console/">{{t.residents}}</a></li>
    <li><a href="/console/requests">{{t.requests}}</a></li>
    <li><a href="/console/notices">{{t.notices}}</a></li>
    <li><a href="/console/audit">{{t.audit}}</a></li>
    <li><a href="/console/clock">{{t.clock}}</a></li>
    <li><a href="/console/scenarios">{{t.scenarios}}</a></li>
    <li><a href="/console/downloads">{{t.downloads}}</a></li>
    </ul></nav>
    <form class="who" method="post" action="/console/signout">\(csrf)
    <span>{{t.signedInAs}} <strong id="who">{{name}}</strong> ({{t.role}}: <span id="role">{{role}}</span>)</span>
    <button type="submit" id="signout">{{t.signout}}</button>
    </form>
    {{/user}}
    </header>
    <main id="main">
    {{#flash}}<div class="flash {{kind}}" role="{{aria}}" id="flash"><strong>{{title}}</strong> <span id="flash-text">{{text}}</span></div>{{/flash}}
    {{{body}}}
    </main>
    </body>
    </html>
    """

    static let signin = """
    <h1>{{t.signin}}</h1>
    {{#failed}}<p class="flash error" role="alert" id="signin-error">{{t.signinFailed}}</p>{{/failed}}
    <form method="post" action="/console/signin" class="stack">
    <label for="token">{{t.token}}</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required aria-describedby="token-help">
    <p id="token-help" class="help">{{t.tokenHelp}}</p>
    <button type="submit" id="signin">{{t.signin}}</button>
    </form>
    """

    static let home = """
    <h1>{{t.residents}}</h1>
    <form method="get" action="/console/" class="inline" role="search">
    <label for="q">{{t.searchLabel}}</label>
    <input id="q" name="q" type="search" value="{{query}}">
    <button type="submit" id="search">{{t.search}}</button>
    </form>
    {{#hasResidents}}
    <div class="scroll"><table id="residents">
    <caption>{{t.residents}}</caption>
    <thead><tr><th scope="col">{{t.id}}</th><th scope="col">{{t.name}}</th><th scope="col">{{t.birth}}</th><th scope="col">{{t.address}}</th><th scope="col">{{t.municipality}}</th></tr></thead>
    <tbody>
    {{#residents}}<tr><td>{{id}}</td><td><a href="/console/residents/{{id}}" class="resident-link">{{name}}</a></td><td>{{dateOfBirth}}</td><td>{{address}}</td><td>{{municipality}} ({{municipalityCode}})</td></tr>
    {{/residents}}
    </tbody></table></div>
    {{/hasResidents}}
    {{^residents}}<p>{{t.noResidents}}</p>{{/residents}}
    {{#canOperate}}
    <section aria-labelledby="register-h">
    <h2 id="register-h">{{t.register}}</h2>
    <form method="post" action="/console/residents" class="stack" id="register-form">\(csrf)
    <label for="r-name">{{t.name}}</label><input id="r-name" name="name" required>
    <label for="r-birth">{{t.birth}}</label><input id="r-birth" name="birth" type="date" required>
    <label for="r-sex">{{t.sex}}</label>
    <select id="r-sex" name="sex"><option value="male">{{t.male}}</option><option value="female">{{t.female}}</option></select>
    <label for="r-address">{{t.address}}</label><input id="r-address" name="address" required>
    <label for="r-residence">{{t.residenceUntil}}</label><input id="r-residence" name="residenceUntil" type="date">
    <span class="check"><input id="r-ward" name="adultWard" type="checkbox" value="yes"><label for="r-ward">{{t.adultWard}}</label></span>
    <button type="submit" id="register">{{t.registerButton}}</button>
    </form>
    </section>
    {{/canOperate}}
    {{^canOperate}}<p class="help">{{t.viewerNote}}</p>{{/canOperate}}
    """

    /// The applicant select of a window procedure's form, its id starting with `prefix` (a template fragment).
    static func applicantSelect(_ prefix: String) -> String {
        """
        <label for="\(prefix)-applicant">{{t.applicant}}</label>
        <select id="\(prefix)-applicant" name="applicant"><option value="self">{{t.self}}</option><option value="legal-representative">{{t.legalRep}}</option><option value="agent">{{t.agent}}</option></select>
        """
    }

    static let resident = """
    {{#r}}
    <h1 id="resident-name">{{name}}</h1>
    <section aria-labelledby="details-h">
    <h2 id="details-h">{{t.basicDetails}}</h2>
    <dl class="details">
    <dt>{{t.name}}</dt><dd id="d-name">{{name}}</dd>
    <dt>{{t.birth}}</dt><dd id="d-birth">{{dateOfBirth}} ({{t.age}} {{age}})</dd>
    <dt>{{t.sex}}</dt><dd id="d-sex">{{sex}}</dd>
    <dt>{{t.address}}</dt><dd id="d-address">{{address}}</dd>
    <dt>{{t.municipality}}</dt><dd>{{prefecture}} {{municipality}} ({{municipalityCode}})</dd>
    {{#residenceUntil}}<dt>{{t.residenceUntil}}</dt><dd>{{residenceUntil}}</dd>{{/residenceUntil}}
    {{#adultWard}}<dt>{{t.adultWard}}</dt><dd>✓</dd>{{/adultWard}}
    </dl>
    </section>
    {{/r}}
    {{#hasPending}}
    <section aria-labelledby="pending-h"><h2 id="pending-h">{{t.requests}}</h2>
    <ul>{{#pending}}<li>#{{id}} {{operation}} — {{t.completableFrom}} {{completableFrom}} (<a href="/console/requests">{{t.secondVisit}}</a>)</li>{{/pending}}</ul>
    </section>
    {{/hasPending}}
    <section aria-labelledby="cards-h">
    <h2 id="cards-h">{{t.cards}}</h2>
    <p class="help">{{t.endByHelp}}</p>
    {{^cards}}<p>{{t.noCards}}</p>{{/cards}}
    {{#cards}}
    <article class="card" id="card-{{id}}" aria-labelledby="card-{{id}}-h">
    <h3 id="card-{{id}}-h">{{t.card}} #{{id}} — <span class="status status-{{status}}" id="card-{{id}}-status">{{status}}</span></h3>
    <p>{{t.issuedAt}} {{issuedAt}} · {{t.notAfter}} {{notAfter}} · {{t.endBy}}: {{limit}}</p>
    {{#canOperate}}
    <div class="actions">
    {{#canSuspend}}
    <form method="post" action="/console/cards/{{id}}/suspend" class="inline">\(csrf)<input type="hidden" name="back" value="{{back}}">
    \(applicantSelect("card-{{id}}-suspend"))
    <button type="submit" class="danger" id="card-{{id}}-suspend">{{t.suspend}}</button></form>
    {{/canSuspend}}
    {{#canResume}}
    <form method="post" action="/console/cards/{{id}}/resume" class="inline">\(csrf)<input type="hidden" name="back" value="{{back}}">
    <label for="card-{{id}}-resume-pin">{{t.pinOfCard}}</label><input id="card-{{id}}-resume-pin" name="pin" type="password" autocomplete="current-password" required>
    \(applicantSelect("card-{{id}}-resume"))
    <button type="submit" id="card-{{id}}-resume">{{t.resume}}</button></form>
    {{/canResume}}
    {{#canRevoke}}
    <form method="post" action="/console/cards/{{id}}/revoke" class="inline">\(csrf)<input type="hidden" name="back" value="{{back}}">
    <label for="card-{{id}}-reason">{{t.reason}}</label>
    <select id="card-{{id}}-reason" name="reason">{{#reasons}}<option value="{{value}}">{{label}}</option>{{/reasons}}</select>
    \(applicantSelect("card-{{id}}-revoke"))
    <button type="submit" class="danger" id="card-{{id}}-revoke">{{t.revoke}}</button></form>
    <form method="post" action="/console/cards/{{id}}/renew" class="inline">\(csrf)<input type="hidden" name="back" value="{{back}}">
    <label for="card-{{id}}-renew-sign">{{t.signPin}}</label><input id="card-{{id}}-renew-sign" name="signPin" type="password" autocomplete="new-password">
    <label for="card-{{id}}-renew-auth">{{t.authPin}}</label><input id="card-{{id}}-renew-auth" name="authPin" type="password" autocomplete="new-password" inputmode="numeric" required>
    \(applicantSelect("card-{{id}}-renew"))
    <button type="submit" id="card-{{id}}-renew">{{t.renew}}</button></form>
    <form method="post" action="/console/certificates" class="inline">\(csrf)<input type="hidden" name="back" value="{{back}}"><input type="hidden" name="card" value="{{id}}">
    <label for="card-{{id}}-kind">{{t.kind}}</label>
    <select id="card-{{id}}-kind" name="kind"><option value="sign">{{t.sign}}</option><option value="auth">{{t.auth}}</option></select>
    <label for="card-{{id}}-new-pin">{{t.pin}}</label><input id="card-{{id}}-new-pin" name="pin" type="password" autocomplete="new-password" required>
    \(applicantSelect("card-{{id}}-issue"))
    <button type="submit" id="card-{{id}}-issue-cert">{{t.issueCertificate}}</button></form>
    {{/canRevoke}}
    </div>
    {{/canOperate}}
    <div class="scroll"><table class="certs">
    <caption>{{t.certificates}}</caption>
    <thead><tr><th scope="col">{{t.kind}}</th><th scope="col">{{t.serial}}</th><th scope="col">{{t.status}}</th><th scope="col">{{t.reason}}</th><th scope="col">{{t.notBefore}}</th><th scope="col">{{t.notAfter}}</th><th scope="col">{{t.endBy}}</th><th scope="col">{{t.pinTries}}</th><th scope="col">{{t.download}}</th></tr></thead>
    <tbody>
    {{#certificates}}<tr id="cert-{{serial}}" data-kind="{{kind}}">
    <td data-label="{{t.kind}}">{{kindLabel}} ({{form}})</td><td class="mono" data-label="{{t.serial}}">{{serial}}</td><td data-label="{{t.status}}"><span class="status status-{{status}}" id="cert-{{serial}}-status">{{status}}</span></td><td data-label="{{t.reason}}">{{reason}}</td>
    <td data-label="{{t.notBefore}}">{{notBefore}}</td><td data-label="{{t.notAfter}}">{{notAfter}}</td><td data-label="{{t.endBy}}"><span>{{limit}}{{#renewalOpens}}<br><small>{{t.renewalOpens}} {{renewalOpens}}</small>{{/renewalOpens}}{{#inWindow}}<br><small>{{t.inWindow}}</small>{{/inWindow}}</span></td>
    <td data-label="{{t.pinTries}}"><span>{{pinTriesLeft}}{{#locked}} ({{t.locked}}){{/locked}}</span></td>
    <td data-label="{{t.download}}"><span><a href="/console/certificates/{{serial}}/cert.pem" id="cert-{{serial}}-pem">PEM</a> · <a href="/console/certificates/{{serial}}/cert.der" id="cert-{{serial}}-der">DER</a></span></td></tr>
    {{/certificates}}
    </tbody></table></div>
    {{#canOperate}}
    {{#certificates}}{{#live}}
    <details class="cert-actions"><summary>{{t.actions}}: {{kindLabel}} {{serial}}</summary>
    <div class="actions">
    <form method="post" action="/console/certificates/{{serial}}/revoke" class="inline">\(csrf)<input type="hidden" name="back" value="{{back}}">
    <label for="cert-{{serial}}-reason">{{t.reason}}</label>
    <select id="cert-{{serial}}-reason" name="reason">{{#reasons}}<option value="{{value}}">{{label}}</option>{{/reasons}}</select>
    \(applicantSelect("cert-{{serial}}-revoke"))
    <button type="submit" class="danger" id="cert-{{serial}}-revoke">{{t.revoke}}</button></form>
    <form method="post" action="/console/certificates/{{serial}}/renew" class="inline">\(csrf)<input type="hidden" name="back" value="{{back}}">
    <label for="cert-{{serial}}-renew-pin">{{t.newPin}}</label><input id="cert-{{serial}}-renew-pin" name="pin" type="password" autocomplete="new-password">
    \(applicantSelect("cert-{{serial}}-renew"))
    <label for="cert-{{serial}}-notice">{{t.noticeForm}}</label><select id="cert-{{serial}}-notice" name="noticeForm"><option value="">{{t.no}}</option><option value="yes">{{t.yes}}</option></select>
    <button type="submit" id="cert-{{serial}}-renew">{{t.renew}}</button></form>
    <form method="post" action="/console/certificates/{{serial}}/pin-reset" class="inline">\(csrf)<input type="hidden" name="back" value="{{back}}">
    <label for="cert-{{serial}}-reset-pin">{{t.newPin}}</label><input id="cert-{{serial}}-reset-pin" name="newPin" type="password" autocomplete="new-password" required>
    \(applicantSelect("cert-{{serial}}-reset"))
    <button type="submit" id="cert-{{serial}}-pin-reset">{{t.pinReset}}</button></form>
    <form method="post" action="/console/certificates/{{serial}}/export" class="inline">\(csrf)
    <label for="cert-{{serial}}-p12-password">{{t.p12Password}}</label><input id="cert-{{serial}}-p12-password" name="password" type="password" autocomplete="new-password" required>
    <button type="submit" id="cert-{{serial}}-p12">{{t.pkcs12}} — {{t.export}}</button></form>
    </div></details>
    {{/live}}{{/certificates}}
    {{/canOperate}}
    </article>
    {{/cards}}
    </section>
    {{#canOperate}}
    <section aria-labelledby="issue-h">
    <h2 id="issue-h">{{t.issueCard}}</h2>
    <form method="post" action="/console/cards" class="stack" id="issue-card-form">\(csrf)<input type="hidden" name="back" value="{{back}}"><input type="hidden" name="resident" value="{{r.id}}">
    <label for="ic-sign">{{t.signPin}}</label><input id="ic-sign" name="signPin" type="password" autocomplete="new-password">
    <label for="ic-auth">{{t.authPin}}</label><input id="ic-auth" name="authPin" type="password" autocomplete="new-password" inputmode="numeric" required>
    \(applicantSelect("ic"))
    <button type="submit" id="issue-card">{{t.issueCardButton}}</button>
    </form>
    </section>
    <section aria-labelledby="change-h">
    <h2 id="change-h">{{t.changeDetails}}</h2>
    <p class="help">{{t.changeHelp}}</p>
    <form method="post" action="/console/residents/{{r.id}}/update" class="stack" id="change-form">\(csrf)<input type="hidden" name="back" value="{{back}}">
    <label for="u-name">{{t.name}}</label><input id="u-name" name="name">
    <label for="u-address">{{t.address}}</label><input id="u-address" name="address">
    <label for="u-birth">{{t.birth}}</label><input id="u-birth" name="birth" type="date">
    <label for="u-sex">{{t.sex}}</label>
    <select id="u-sex" name="sex"><option value="">—</option><option value="male">{{t.male}}</option><option value="female">{{t.female}}</option></select>
    \(applicantSelect("u"))
    <button type="submit" class="danger" id="change">{{t.changeButton}}</button>
    </form>
    </section>
    {{/canOperate}}
    """

    static let requests = """
    <h1>{{t.requests}}</h1>
    {{^requests}}<p>{{t.noRequests}}</p>{{/requests}}
    {{#requests}}
    <article class="card" id="request-{{id}}" aria-labelledby="request-{{id}}-h">
    <h2 id="request-{{id}}-h">#{{id}} {{operation}}</h2>
    <p>{{t.resident}}: <a href="/console/residents/{{residentId}}">#{{residentId}}</a> · {{t.createdAt}} {{createdAt}} · {{t.completableFrom}} {{completableFrom}}</p>
    <p class="mono">{{arguments}}</p>
    {{#canOperate}}
    <form method="post" action="/console/requests/{{id}}/complete" class="stack">\(csrf)
    <label for="rq-{{id}}-answer">{{t.answerCode}}</label><input id="rq-{{id}}-answer" name="answer" required autocomplete="off">
    <label for="rq-{{id}}-sign">{{t.signPin}}</label><input id="rq-{{id}}-sign" name="signPin" type="password" autocomplete="new-password">
    <label for="rq-{{id}}-auth">{{t.authPin}}</label><input id="rq-{{id}}-auth" name="authPin" type="password" autocomplete="new-password">
    <label for="rq-{{id}}-pin">{{t.pin}}</label><input id="rq-{{id}}-pin" name="pin" type="password" autocomplete="new-password">
    <label for="rq-{{id}}-newpin">{{t.newPin}}</label><input id="rq-{{id}}-newpin" name="newPin" type="password" autocomplete="new-password">
    <button type="submit" id="rq-{{id}}-complete">{{t.secondVisit}}: {{t.complete}}</button>
    </form>
    {{/canOperate}}
    </article>
    {{/requests}}
    """

    static let notices = """
    <h1>{{t.notices}}</h1>
    <form method="get" action="/console/notices" class="inline">
    <label for="within">{{t.within}}</label><input id="within" name="within" value="{{within}}">
    <button type="submit">{{t.search}}</button>
    </form>
    <p>{{t.now}}: {{asOf}}</p>
    {{^notices}}<p>{{t.noNotices}}</p>{{/notices}}
    {{#hasNotices}}
    <div class="scroll"><table id="notices"><caption>{{t.notices}}</caption>
    <thead><tr><th scope="col">{{t.resident}}</th><th scope="col">{{t.subject}}</th><th scope="col">{{t.serial}}</th><th scope="col">{{t.notAfter}}</th><th scope="col">{{t.renewalOpens}}</th></tr></thead>
    <tbody>{{#notices}}<tr><td><a href="/console/residents/{{residentId}}">{{name}}</a></td><td>{{subject}} {{kind}}</td><td class="mono">{{serial}}</td><td>{{notAfter}}</td><td>{{renewalOpens}}</td></tr>{{/notices}}</tbody>
    </table></div>
    {{/hasNotices}}
    """

    static let audit = """
    <h1>{{t.audit}}</h1>
    <p id="audit-check" class="flash {{checkKind}}" role="status">{{t.auditCheck}}: {{checkText}}</p>
    <div class="scroll"><table id="audit"><caption>{{t.audit}} ({{shown}} / {{total}})</caption>
    <thead><tr><th scope="col">#</th><th scope="col">{{t.time}}</th><th scope="col">{{t.operation}}</th><th scope="col">{{t.applicant}}</th><th scope="col">{{t.actor}}</th><th scope="col">{{t.resident}}</th><th scope="col">{{t.outcome}}</th><th scope="col">{{t.detail}}</th></tr></thead>
    <tbody>{{#entries}}<tr><td>{{id}}</td><td>{{sandboxTime}}</td><td>{{operation}}</td><td>{{applicant}}</td><td>{{actor}}</td><td>{{residentID}}</td><td>{{outcome}}</td><td>{{detail}}</td></tr>{{/entries}}</tbody>
    </table></div>
    """

    static let clock = """
    <h1>{{t.clock}}</h1>
    <p>{{t.now}}: <strong id="clock-now">{{now}}</strong></p>
    {{#canAdmin}}
    <form method="post" action="/console/clock/advance" class="inline">\(csrf)
    <label for="duration">{{t.duration}}</label><input id="duration" name="duration" required value="1d">
    <button type="submit" id="advance">{{t.advance}}</button>
    </form>
    {{/canAdmin}}
    {{^canAdmin}}<p class="help">{{t.adminOnly}}</p>{{/canAdmin}}
    """

    static let scenarios = """
    <h1>{{t.scenarios}}</h1>
    <div class="scroll"><table id="scenarios"><caption>{{t.scenarios}}</caption>
    <thead><tr><th scope="col">{{t.name}}</th><th scope="col">{{t.description}}</th><th scope="col">{{t.actions}}</th></tr></thead>
    <tbody>{{#scenarios}}<tr><td class="mono">{{name}}</td><td>{{description}}</td><td>
    {{#available}}{{#canOperate}}<form method="post" action="/console/scenarios/{{name}}" class="inline">\(csrf)<button type="submit" id="scenario-{{name}}">{{t.create}}</button></form>{{/canOperate}}{{/available}}
    {{^available}}{{t.unavailable}}{{/available}}
    </td></tr>{{/scenarios}}</tbody>
    </table></div>
    """

    static let downloads = """
    <h1>{{t.downloads}}</h1>
    <h2>{{t.roots}}</h2>
    <ul>{{#roots}}<li><a href="{{href}}">{{label}}</a></li>{{/roots}}</ul>
    <h2>{{t.crls}}</h2>
    <ul>{{#crls}}<li><a href="{{href}}">{{label}}</a></li>{{/crls}}</ul>
    {{#canOperate}}
    <form method="post" action="/console/crls" class="inline">\(csrf)<button type="submit" id="generate-crls">{{t.generateCRLs}}</button></form>
    {{/canOperate}}
    """

    static let confirm = """
    <h1>{{t.confirmTitle}}</h1>
    <p>{{t.confirmText}}</p>
    <p class="confirm-what" id="confirm-what"><strong>{{what}}</strong></p>
    <form method="post" action="{{action}}" class="inline">\(csrf)
    {{#fields}}<input type="hidden" name="{{name}}" value="{{value}}">{{/fields}}
    <input type="hidden" name="confirmed" value="yes">
    <button type="submit" class="danger" id="confirm">{{t.confirmButton}}</button>
    </form>
    <p><a href="{{back}}" id="cancel">{{t.cancel}}</a></p>
    """

    static let message = """
    <h1 id="message-title">{{title}}</h1>
    <p id="message-text">{{text}}</p>
    <p><a href="{{back}}">{{t.back}}</a></p>
    """

    static let css = """
    :root { --fg: #1a1a1a; --bg: #fff; --accent: #0b5394; --danger: #a61c00; --ok: #1e6b2a; --muted: #555; --line: #c8c8c8; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Hiragino Sans", "Noto Sans CJK JP", sans-serif; color: var(--fg); background: var(--bg); }
    a { color: var(--accent); }
    .skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px; }
    header { background: #eef3f8; border-bottom: 1px solid var(--line); padding: 8px 16px; display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: center; }
    header .brand { margin: 0; font-weight: bold; } header .langs { margin: 0; }
    nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 14px; }
    .who { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-left: auto; }
    main { padding: 16px; max-width: 1200px; }
    h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 1.5em; } h3 { font-size: 1.05rem; }
    .scroll { overflow-x: auto; }
    table { border-collapse: collapse; width: 100%; margin: 8px 0; }
    caption { text-align: left; font-weight: bold; padding: 4px 0; }
    th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
    th { background: #f3f3f3; }
    .mono { font-family: ui-monospace, monospace; font-size: .9em; word-break: break-all; }
    .stack { display: grid; gap: 4px; max-width: 32rem; }
    .stack label { margin-top: 6px; font-weight: 600; }
    .inline { display: inline-flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 4px 12px 4px 0; }
    .actions { display: flex; flex-wrap: wrap; gap: 4px; padding: 6px 0; }
    .check { display: inline-flex; gap: 6px; align-items: center; }
    input, select, button { font: inherit; padding: 4px 8px; min-height: 36px; max-width: 100%; }
    button { background: var(--accent); color: #fff; border: 1px solid var(--accent); border-radius: 4px; cursor: pointer; }
    button.danger { background: var(--danger); border-color: var(--danger); }
    .help { color: var(--muted); }
    .flash { padding: 8px 12px; border-radius: 4px; border: 1px solid var(--line); }
    .flash.ok { background: #e6f4ea; border-color: var(--ok); }
    .flash.error { background: #fdecea; border-color: var(--danger); }
    .flash.info { background: #eef3f8; }
    .card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 12px 0; }
    .status { font-weight: bold; } .status-good, .status-active { color: var(--ok); }
    .status-revoked, .status-hold, .status-suspended, .status-expired { color: var(--danger); }
    .details { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
    .details dt { font-weight: 600; } .details dd { margin: 0; }
    details.cert-actions { margin: 6px 0; } summary { cursor: pointer; color: var(--accent); }
    @media (max-width: 640px) {
      header { padding: 8px; } main { padding: 8px; }
      .details { grid-template-columns: 1fr; } .details dd { margin-bottom: 6px; }
      .who { margin-left: 0; }
      .inline { display: flex; width: 100%; } .inline input, .inline select { flex: 1 1 10rem; }
      /* A certificate per block on a phone: each cell with its column's name before it. */
      table.certs thead { position: absolute; left: -9999px; }
      table.certs, table.certs tbody, table.certs tr, table.certs td { display: block; width: 100%; }
      table.certs tr { border: 1px solid var(--line); border-radius: 4px; margin-bottom: 8px; }
      table.certs td { border: none; display: grid; grid-template-columns: 8.5rem 1fr; gap: 6px; padding: 2px 8px; }
      table.certs td::before { content: attr(data-label); font: 600 1rem/1.5 system-ui, sans-serif; }
    }
    """
}
