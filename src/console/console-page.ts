/**
 * The console's one HTML page: static markup, every text filled in by the script in the browser's
 * language, every URL relative (so it also works behind a proxy's path prefix). Portable.
 * A static page with a module script rather than hono/jsx: all that changes on the page comes
 * from API answers in the browser, so server-side rendering would only render constants, and a
 * script file of its own keeps the policy at `script-src 'self'` with no nonce or hash to manage.
 */
export interface ConsolePageOptions {
  /** Whether the gateway makes signed links (LINK_SECRET set): downloads then go by link. */
  links: boolean
}

export function toConsolePage(options: ConsolePageOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Kylin async query console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="console/app.css">
<script type="module" src="console/app.js"></script>
</head>
<body data-links="${options.links ? 'on' : 'off'}">
<header class="bar">
  <h1 data-text="title">Kylin async query console</h1>
  <span id="who" class="who"></span>
  <button id="sign-out" type="button" data-text="signOut" hidden></button>
</header>
<main>
  <section id="sign-in" class="panel">
    <h2 data-text="signInTitle"></h2>
    <form id="sign-in-form" method="post" autocomplete="off">
      <label><span data-text="user"></span>
        <input id="user" name="username" autocomplete="username" required maxlength="256"></label>
      <label><span data-text="password"></span>
        <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256"></label>
      <button id="sign-in-button" type="submit" data-text="signIn"></button>
      <p id="sign-in-error" class="error" role="alert"></p>
    </form>
    <noscript>This console needs JavaScript.</noscript>
  </section>
  <section id="workspace" hidden>
    <form id="query-form" class="panel" method="post">
      <div class="row">
        <label class="grow"><span data-text="project"></span>
          <select id="project" required></select></label>
        <label><span data-text="limit"></span>
          <input id="limit" type="number" min="0" step="1" inputmode="numeric" placeholder="0"></label>
      </div>
      <label><span data-text="sql"></span>
        <textarea id="sql" rows="5" spellcheck="false" required maxlength="1000000"></textarea></label>
      <div class="row">
        <button id="submit" type="submit" data-text="submit"></button>
        <p id="submit-error" class="error" role="alert"></p>
      </div>
    </form>
    <section class="panel">
      <div class="row">
        <h2 class="grow" data-text="queries"></h2>
        <button id="refresh" type="button" data-text="refresh"></button>
      </div>
      <p id="list-error" class="error" role="alert"></p>
      <p id="list-empty" class="muted" data-text="noQueries" hidden></p>
      <ul id="query-list" class="queries"></ul>
    </section>
    <section id="preview" class="panel" hidden>
      <div class="row">
        <h2 class="grow" id="preview-title"></h2>
        <button id="preview-close" type="button" data-text="close"></button>
      </div>
      <p id="preview-note" class="muted"></p>
      <div class="table-wrap"><table id="preview-table"></table></div>
    </section>
  </section>
</main>
</body>
</html>
`
}
