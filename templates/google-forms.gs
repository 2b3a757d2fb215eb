/**
 * sheetsync for Google Forms: post every form response to sheetsync's webhook, signed.
 *
 * Install (once per form):
 *   1. Open the form, then ⋮ (More) > Apps Script. Replace the editor's contents with this file and save.
 *   2. Project Settings (gear) > Script properties > Add:
 *        SHEETSYNC_URL     https://your-host/hooks/google-forms
 *        SHEETSYNC_SECRET  the google-forms secret from sheetsync.toml ([secrets] "google-forms")
 *   3. Back in the editor, choose the function `install` and press Run; accept the permissions.
 *   4. Submit a test response, then open https://your-host/api/status: the queue depth goes up, then down.
 * To send responses collected before the install (or after an outage), run `resendAll`: sheetsync
 * de-duplicates on the response ID, so responses it already has are not added twice.
 *
 * Each request: POST JSON {form_id, form_title, response_id, submitted_at, respondent_email, answers[]},
 * headers X-Sheetsync-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>"> and Idempotency-Key: <response id>.
 */

var HANDLER = 'sheetsyncOnFormSubmit';
var ATTEMPTS = 3;

/** Install the on-submit trigger for this form (run once; running again replaces it). */
function install() {
  settings_();
  var form = FormApp.getActiveForm();
  ScriptApp.getProjectTriggers().forEach(function (trigger) {
    if (trigger.getHandlerFunction() === HANDLER) {
      ScriptApp.deleteTrigger(trigger);
    }
  });
  ScriptApp.newTrigger(HANDLER).forForm(form).onFormSubmit().create();
  Logger.log('sheetsync: responses to "%s" will be posted to %s', form.getTitle(), settings_().url);
}

/** Post the response that fired the trigger. */
function sheetsyncOnFormSubmit(e) {
  postResponse_(e.source || FormApp.getActiveForm(), e.response);
}

/** Post every response of the form; sheetsync skips the ones it already has. */
function resendAll() {
  var form = FormApp.getActiveForm();
  form.getResponses().forEach(function (response) {
    postResponse_(form, response);
  });
}

function settings_() {
  var props = PropertiesService.getScriptProperties();
  var url = props.getProperty('SHEETSYNC_URL');
  var secret = props.getProperty('SHEETSYNC_SECRET');
  if (!url || !secret) {
    throw new Error('Set the script properties SHEETSYNC_URL and SHEETSYNC_SECRET ' +
                    '(Project Settings > Script properties), then run install again.');
  }
  return {url: url, secret: secret};
}

function body_(form, response) {
  var answers = response.getItemResponses().map(function (itemResponse) {
    var item = itemResponse.getItem();
    return {id: item.getId(), title: item.getTitle(), type: String(item.getType()),
            response: itemResponse.getResponse()};
  });
  var email = '';
  try {
    email = response.getRespondentEmail() || '';
  } catch (err) {
    email = '';
  }
  return {
    form_id: form.getId(),
    form_title: form.getTitle(),
    response_id: response.getId(),
    submitted_at: response.getTimestamp().toISOString(),
    respondent_email: email,
    answers: answers
  };
}

/** Hex HMAC-SHA256; computeHmacSha256Signature returns signed bytes (-128..127), so mask each to 0..255. */
function hexHmac_(message, secret) {
  var bytes = Utilities.computeHmacSha256Signature(message, secret, Utilities.Charset.UTF_8);
  return bytes.map(function (b) {
    return ('0' + (b & 0xff).toString(16)).slice(-2);
  }).join('');
}

function postResponse_(form, response) {
  var config = settings_();
  var payload = JSON.stringify(body_(form, response));
  var lastError = '';
  for (var attempt = 1; attempt <= ATTEMPTS; attempt++) {
    var t = String(Math.floor(Date.now() / 1000));
    var result;
    try {
      result = UrlFetchApp.fetch(config.url, {
        method: 'post',
        contentType: 'application/json; charset=utf-8',
        payload: payload,
        headers: {
          'X-Sheetsync-Signature': 't=' + t + ',v1=' + hexHmac_(t + '.' + payload, config.secret),
          'Idempotency-Key': response.getId()
        },
        muteHttpExceptions: true
      });
    } catch (err) {
      lastError = String(err);
      Utilities.sleep(2000 * attempt);
      continue;
    }
    var code = result.getResponseCode();
    if (code >= 200 && code < 300) {
      return JSON.parse(result.getContentText());
    }
    lastError = code + ' ' + result.getContentText();
    if (code < 500 && code !== 429) {
      break;
    }
    Utilities.sleep(2000 * attempt);
  }
  // Throwing makes Apps Script e-mail the owner; run resendAll once the cause is fixed.
  throw new Error('sheetsync did not accept response ' + response.getId() + ': ' + lastError);
}
