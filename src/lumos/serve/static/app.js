// lumos serve: the little the pages need beyond HTML. Forms with data-swap="#id" are sent in the background and
// the element #id is replaced by the same element of the page the server answers with (without this script
// the browser shows that page); data-autosubmit="ms" sends a field's form when it changes; elements with
// data-job follow a background job's progress. Nothing here builds markup from data: text goes in as text.
"use strict";
(function () {
  const latest = {};

  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function errorBox(text) {
    const p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    return p;
  }

  function megabytes(n) {
    return (n / 1048576).toFixed(1) + " MB";
  }

  function tooLarge(form) {
    for (const input of form.querySelectorAll("input[type=file][data-max-bytes]")) {
      const max = Number(input.dataset.maxBytes);
      for (const file of input.files) {
        if (file.size > max) {
          return `${file.name} is ${megabytes(file.size)}; the limit is ${megabytes(max)}. Choose a smaller file.`;
        }
      }
    }
    return null;
  }

  function swap(html, selector, status) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    const here = document.querySelector(selector);
    const fresh = doc.querySelector(selector);
    if (!here) return;
    if (fresh && status < 400) {
      const node = document.importNode(fresh, true);
      here.replaceWith(node);
      wire(node);
      return;
    }
    const message = doc.querySelector("#error-message");
    here.replaceChildren(errorBox(message ? message.textContent : `the server answered ${status}`));
  }

  async function send(form, submitter) {
    const selector = form.dataset.swap;
    const region = document.querySelector(selector);
    if (!region) return form.submit();
    const problem = tooLarge(form);
    if (problem) {
      region.replaceChildren(errorBox(problem));
      return;
    }
    const body = new FormData(form, submitter);
    if (form.dataset.include) {
      const other = document.querySelector(form.dataset.include);
      if (other) {
        for (const [key, value] of new FormData(other)) {
          if (!body.has(key) && key !== "methods" && !(value instanceof File)) body.append(key, value);
        }
      }
    }
    // attributes, not properties: a field named "method" or "action" would shadow them
    const get = (form.getAttribute("method") || "get").toLowerCase() === "get";
    const action = new URL(form.getAttribute("action") || location.href, location.href).href;
    const url = get ? `${action}?${new URLSearchParams(body)}` : action;
    const seq = (latest[selector] = (latest[selector] || 0) + 1);
    region.classList.add("busy");
    form.classList.add("busy");
    try {
      const response = await fetch(url, get ? {} : {method: "POST", body, headers: {"X-CSRF-Token": csrf()}});
      const html = await response.text();
      if (seq === latest[selector]) swap(html, selector, response.status);
    } catch (error) {
      if (seq === latest[selector]) region.replaceChildren(errorBox(`the request failed: ${error.message}`));
    } finally {
      if (seq === latest[selector]) {
        const now = document.querySelector(selector);
        if (now) now.classList.remove("busy");
        form.classList.remove("busy");
      }
    }
  }

  function watch(element) {
    const id = element.dataset.job;
    const bar = element.querySelector("progress");
    const status = element.querySelector(".status");
    const stage = element.querySelector(".stage");
    const count = element.querySelector(".count");
    const message = element.querySelector(".message");
    const link = element.querySelector(".result");
    async function tick() {
      let job;
      try {
        const response = await fetch(`/api/jobs/${encodeURIComponent(id)}`, {headers: {Accept: "application/json"}});
        if (!response.ok) return;
        job = await response.json();
      } catch (error) {
        setTimeout(tick, 3000);
        return;
      }
      bar.max = job.total || 1;
      bar.value = job.total ? job.done : 0;
      status.textContent = job.status;
      status.className = `status status-${job.status}`;
      stage.textContent = job.stage || "";
      count.textContent = job.total ? `${job.done} of ${job.total}` : "";
      message.textContent = job.message || "";
      if (job.run_id && job.status === "done") {
        link.href = `/runs/${encodeURIComponent(job.run_id)}`;
        link.textContent = `open run ${job.run_id}`;
        link.hidden = false;
      }
      if (job.status === "queued" || job.status === "running") {
        setTimeout(tick, 700);
        return;
      }
      for (const control of document.querySelectorAll(`[data-while-job="${CSS.escape(id)}"]`)) control.hidden = true;
      if (element.dataset.reload && job.status === "done") location.reload();
    }
    const now = status.textContent.trim();
    if (now === "queued" || now === "running") tick();
  }

  function wire(root) {
    for (const form of root.querySelectorAll("form[data-swap]")) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        send(form, event.submitter);
      });
    }
    for (const field of root.querySelectorAll("[data-autosubmit]")) {
      const wait = Number(field.dataset.autosubmit) || 0;
      let timer = null;
      const fire = () => {
        clearTimeout(timer);
        timer = setTimeout(() => field.form && send(field.form), wait);
      };
      field.addEventListener(field.tagName === "SELECT" ? "change" : "input", fire);
    }
    for (const element of root.querySelectorAll("[data-job]")) watch(element);
  }

  document.addEventListener("DOMContentLoaded", () => wire(document));
})();
