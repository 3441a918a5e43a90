// Leaders' WebAuthn keys in the admin: enrolling a key, signing an approval with it, and
// using it as the second factor at sign-in (the buttons carry the server's URLs).
// The server prepares the approval; its SHA-256 is the challenge, so the key signs exactly
// that approval. Plain script, no build step; event delegation so it also works inside
// Wagtail's workflow modals, which are loaded after the page.
(() => {
  "use strict";

  const toBytes = (b64url) => {
    const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(b64 + "===".slice((b64.length + 3) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  };
  const toB64url = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  const csrfToken = () =>
    (window.wagtailConfig && window.wagtailConfig.CSRF_TOKEN) ||
    (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
    return data;
  }

  const creationOptions = (options) => ({
    ...options,
    challenge: toBytes(options.challenge),
    user: { ...options.user, id: toBytes(options.user.id) },
    excludeCredentials: (options.excludeCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
  });
  const requestOptions = (options) => ({
    ...options,
    challenge: toBytes(options.challenge),
    allowCredentials: (options.allowCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) })),
  });

  function credentialJSON(credential) {
    const r = credential.response;
    const response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      response.userHandle = r.userHandle ? toB64url(r.userHandle) : null;
    }
    return {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response,
    };
  }

  function say(container, text, isError) {
    const status = container.querySelector("[data-review-passkey-status]");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error-message", Boolean(isError));
  }

  async function signApproval(button) {
    const form = button.closest("form");
    button.disabled = true;
    try {
      say(form, "正在准备签名内容……");
      const prepared = await postJSON(button.dataset.prepareUrl);
      const approval = prepared.approval;
      say(form, `请在安全密钥上确认：签名批准《${approval.title}》` +
        `（版本 ${approval.revision_id}，内容 SHA-256 ${approval.content_sha256.slice(0, 16)}…）`);
      const credential = await navigator.credentials.get({ publicKey: requestOptions(prepared.options) });
      form.elements.approval_payload.value = JSON.stringify(approval);
      form.elements.webauthn_assertion.value = JSON.stringify(credentialJSON(credential));
      say(form, "已签名，正在提交……");
      form.requestSubmit();
    } catch (error) {
      say(form, `未能签名：${error.message}`, true);
      button.disabled = false;
    }
  }

  async function enrolKey(button) {
    const container = button.closest("[data-review-passkey-enrolment]") || document.body;
    const nameInput = container.querySelector("[data-review-passkey-name]");
    button.disabled = true;
    try {
      say(container, "请按安全密钥的提示操作……");
      const { options } = await postJSON(button.dataset.optionsUrl);
      const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
      await postJSON(button.dataset.enrolUrl, {
        name: nameInput ? nameInput.value : "",
        credential: credentialJSON(credential),
      });
      window.location.reload();
    } catch (error) {
      say(container, `未能登记：${error.message}`, true);
      button.disabled = false;
    }
  }

  async function verifyLogin(button) {
    const container = button.closest("[data-review-passkey-enrolment]") || document.body;
    button.disabled = true;
    try {
      say(container, "请按安全密钥的提示操作……");
      const { options } = await postJSON(button.dataset.optionsUrl);
      const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
      const { redirect } = await postJSON(button.dataset.verifyUrl, { credential: credentialJSON(credential) });
      window.location.assign(redirect);
    } catch (error) {
      say(container, `未能验证：${error.message}`, true);
      button.disabled = false;
    }
  }

  document.addEventListener("click", (event) => {
    const sign = event.target.closest("[data-review-passkey-sign]");
    const enrol = event.target.closest("[data-review-passkey-enrol]");
    const login = event.target.closest("[data-review-passkey-login]");
    if (!sign && !enrol && !login) return;
    event.preventDefault();
    if (!window.PublicKeyCredential) {
      window.alert("此浏览器不支持安全密钥（WebAuthn）。请使用新版浏览器，并通过 https 或 localhost 访问。");
      return;
    }
    if (sign) signApproval(sign);
    else if (login) verifyLogin(login);
    else enrolKey(enrol);
  });
})();
