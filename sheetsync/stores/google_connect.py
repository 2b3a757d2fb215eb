"""Connect to a Google Sheet: service-account credentials, the spreadsheet ID, and errors that say the fix."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import requests
from google.auth.exceptions import GoogleAuthError
from google.oauth2 import service_account
from gspread.exceptions import APIError

from ..config import Config
from ..ports import StoreConflict, StoreError
from .google_http import GOOGLE_SHEETS_BASE, SheetsHTTPClient, is_loopback

log = logging.getLogger(__name__)

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
"""Sheets read/write only: sheetsync never needs Drive access."""
_URL_ID = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")
_BARE_ID = re.compile(r"^[A-Za-z0-9_-]{10,}$")


def spreadsheet_id(value: str) -> str:
    """The spreadsheet ID from an ID or a full docs.google.com URL."""
    text = value.strip()
    if not text:
        raise StoreError("No Google Sheet is configured: set google_spreadsheet (or SHEETSYNC_GOOGLE_SPREADSHEET) "
                         "to the sheet's ID or its full URL.")
    m = _URL_ID.search(text)
    if m:
        return m.group(1)
    if _BARE_ID.match(text):
        return text
    raise StoreError(f"google_spreadsheet {text!r} is neither a spreadsheet ID nor a Google Sheets URL: copy the "
                     "address from the browser (https://docs.google.com/spreadsheets/d/<ID>/edit).")


def load_credentials(config: Config) -> service_account.Credentials | None:
    """Service-account credentials from google_credentials_json or the google_credentials key file, or None."""
    if config.google_credentials_json:
        try:
            info = json.loads(config.google_credentials_json)
        except ValueError as exc:
            raise StoreError("SHEETSYNC_GOOGLE_CREDENTIALS_JSON (google_credentials_json) is not valid JSON: paste "
                             "the whole service-account key file, starting with '{'.") from exc
        return _from_info(info, "google_credentials_json")
    if config.google_credentials:
        path = Path(config.google_credentials).expanduser()
        if not path.is_absolute():
            path = config.base_dir / path
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise StoreError(f"The service-account key file {path} does not exist: fix google_credentials "
                             "(or SHEETSYNC_GOOGLE_CREDENTIALS).") from exc
        except (OSError, ValueError) as exc:
            raise StoreError(f"Cannot read the service-account key file {path} ({exc}): download the JSON key "
                             "again from the Google Cloud console.") from exc
        return _from_info(info, str(path))
    return None


def _from_info(info: Any, origin: str) -> service_account.Credentials:
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise StoreError(f"{origin} is not a service-account key (its \"type\" should be \"service_account\"): "
                         "create a key under IAM & Admin > Service accounts > Keys > Add key > JSON.")
    try:
        return service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))
    except (ValueError, GoogleAuthError) as exc:
        raise StoreError(f"The service-account key in {origin} is unusable ({exc}): download a new JSON key.") from exc


def build_client(config: Config, **options: Any) -> tuple[SheetsHTTPClient, str]:
    """An HTTP client for the configured endpoint and the account it acts as (for error messages).

    `pacer_for(account)`, when given, returns the pacer for the account's quota (shared across processes).
    """
    endpoint = config.google_api_endpoint.strip()
    credentials = load_credentials(config)
    pacer_for = options.pop("pacer_for", None)
    if credentials is not None:
        if pacer_for is not None:
            options.setdefault("pacer", pacer_for(credentials.service_account_email))
        return SheetsHTTPClient(credentials, endpoint=endpoint, **options), credentials.service_account_email
    if endpoint and is_loopback(endpoint):
        log.info("No Google credentials: talking to %s without authentication", endpoint)
        if pacer_for is not None:
            options.setdefault("pacer", pacer_for(f"anonymous@{endpoint}"))
        return SheetsHTTPClient(None, requests.Session(), endpoint=endpoint, **options), "the service account"
    raise StoreError("No Google credentials are configured: set google_credentials to the path of the "
                     "service-account JSON key file (or put the JSON itself in SHEETSYNC_GOOGLE_CREDENTIALS_JSON).")


def explain(exc: APIError, sheet_id: str, account: str, endpoint: str = "") -> StoreError:
    """A StoreError that says how to fix an API error (sharing, wrong ID, bad request)."""
    code = exc.code if exc.code != -1 else exc.response.status_code
    message = exc.error.get("message", "") if isinstance(exc.error, dict) else str(exc.error)
    where = endpoint or GOOGLE_SHEETS_BASE
    if code == 403:
        return StoreError(f"Google refused access to spreadsheet {sheet_id}: share the spreadsheet with {account} "
                          "(Editor) using the Share button, and check that the Google Sheets API is enabled for the "
                          f"service account's project. Google said: {message}")
    if code == 404:
        return StoreError(f"No spreadsheet with ID {sheet_id} at {where}: check google_spreadsheet (the ID is the "
                          "part of the sheet's URL between /d/ and /edit).")
    if code == 401:
        return StoreError(f"Google rejected the credentials ({message}): create a new service-account key and "
                          "point google_credentials at it.")
    if code == 400 and "unable to parse range" in message.lower():
        return StoreConflict(f"A tab was renamed or deleted while sheetsync was working ({message}); reading the "
                             "sheet again.")
    if code == 400 and "grid limits" in message.lower():
        return StoreConflict(f"The sheet changed size while sheetsync was writing ({message}); reading it again.")
    return StoreError(f"The Sheets API refused a request with HTTP {code}: {message}")
