"""The shipped Apps Script, run under Node with fakes of the Apps Script services, signs what we verify."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sheetsync.config import Config
from webhook import EXTENSION, create_app
from webhook.signing import verify_sheetsync

SCRIPT = Path(__file__).parent.parent / "templates" / "google-forms.gs"
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is needed to run the Apps Script")

HARNESS = r"""
const fs = require('fs'), vm = require('vm'), crypto = require('crypto');
const scenario = JSON.parse(process.argv[process.argv.length - 1]);
const fetches = [], triggers = [];
const item = (id, title, type, response) => ({
  getItem: () => ({getId: () => id, getTitle: () => title, getType: () => type}), getResponse: () => response});
const response = {
  getId: () => '2_ABaOnud-opaque', getTimestamp: () => new Date(Date.UTC(2026, 10, 28, 9, 29, 50)),
  getRespondentEmail: () => 'amin@example.com',
  getItemResponses: () => [item(11, '公司名称', 'TEXT', 'Acme 机械'), item(12, 'Name', 'TEXT', 'Jane'),
                           item(13, 'Interested in', 'CHECKBOX', ['A', 'B']), item(14, 'Phone', 'TEXT', '=1+1')]};
const form = {getId: () => 'form-1', getTitle: () => 'Sales lead', getResponses: () => [response, response]};
const context = {
  Logger: {log: () => {}},
  FormApp: {getActiveForm: () => form},
  PropertiesService: {getScriptProperties: () => ({getProperty: (k) => scenario.props[k] || null})},
  Utilities: {
    Charset: {UTF_8: 'UTF_8'}, sleep: () => {},
    computeHmacSha256Signature: (value, key, charset) => Array.from(
      crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(Buffer.from(value, 'utf8')).digest(),
      (b) => (b > 127 ? b - 256 : b))},
  UrlFetchApp: {fetch: (url, options) => {
    fetches.push({url, options});
    const code = scenario.codes[Math.min(fetches.length - 1, scenario.codes.length - 1)];
    return {getResponseCode: () => code, getContentText: () => JSON.stringify({id: 'OPP-TEST01'})};
  }},
  ScriptApp: {
    getProjectTriggers: () => [{getHandlerFunction: () => 'sheetsyncOnFormSubmit'}],
    deleteTrigger: () => triggers.push('deleted'),
    newTrigger: (name) => ({forForm: () => ({onFormSubmit: () => ({create: () => triggers.push(name)})})})},
};
vm.createContext(context);
vm.runInContext(fs.readFileSync(scenario.script, 'utf8'), context);
let error = null;
try { context[scenario.call]({source: form, response}); } catch (err) { error = String(err.message); }
process.stdout.write(JSON.stringify({fetches, triggers, error,
  handlerExists: typeof context.sheetsyncOnFormSubmit === 'function'}));
"""


def run(call: str, codes=(202,), props=None) -> dict:
    props = {"SHEETSYNC_URL": "https://crm.example/hooks/google-forms", "SHEETSYNC_SECRET": "gf-secret"} \
        if props is None else props
    scenario = json.dumps({"script": str(SCRIPT), "call": call, "codes": list(codes), "props": props})
    out = subprocess.run(["node", "-e", HARNESS, scenario], capture_output=True, text=True, timeout=20, check=True)
    return json.loads(out.stdout)


def test_a_response_is_posted_signed_with_our_scheme_and_accepted(tmp_path):
    result = run("sheetsyncOnFormSubmit")
    [fetch] = result["fetches"]
    options = fetch["options"]
    body = options["payload"].encode("utf-8")
    header = options["headers"]["X-Sheetsync-Signature"]
    t = int(header.split(",")[0][2:])
    assert verify_sheetsync(header, body, ["gf-secret"], now=t)
    assert options["headers"]["Idempotency-Key"] == "2_ABaOnud-opaque"
    assert options["contentType"].startswith("application/json")

    app = create_app(Config(state_dir=str(tmp_path), base_dir=tmp_path, secrets={"google-forms": ("gf-secret",)}))
    app.extensions[EXTENSION].clock = lambda: datetime.fromtimestamp(t, timezone.utc)
    r = app.test_client().post("/hooks/google-forms", data=body, headers={
        "Content-Type": options["contentType"], **options["headers"]})
    assert r.status_code == 202, r.json
    fields = app.extensions[EXTENSION].queue.items()[0]["fields"]
    assert fields == {"customer": "Acme 机械", "contact": "Jane", "phone": "=1+1", "email": "amin@example.com",
                      "need": "Interested in: A, B", "source": "Google Forms"}
    app.extensions[EXTENSION].queue.close()


def test_install_replaces_the_trigger():
    result = run("install")
    assert result["triggers"] == ["deleted", "sheetsyncOnFormSubmit"] and result["handlerExists"]


def test_install_without_properties_says_what_to_set():
    assert "Set the script properties SHEETSYNC_URL and SHEETSYNC_SECRET" in run("install", props={})["error"]


def test_server_errors_are_retried_and_client_errors_are_not():
    flaky = run("sheetsyncOnFormSubmit", codes=(503, 429, 202))
    assert len(flaky["fetches"]) == 3 and flaky["error"] is None
    refused = run("sheetsyncOnFormSubmit", codes=(401,))
    assert len(refused["fetches"]) == 1 and "did not accept response 2_ABaOnud-opaque: 401" in refused["error"]


def test_resend_all_posts_every_response_with_its_idempotency_key():
    result = run("resendAll")
    assert [f["options"]["headers"]["Idempotency-Key"] for f in result["fetches"]] == ["2_ABaOnud-opaque"] * 2
