// Package sigmatest is an in-process Sigma REST API for tests and benchmarks: an httptest.Server that serves
// one workbook whose one table element holds the rows a test gives it, filtered by one date-range page
// control. Sigma has no emulator; this server is written from the published contract as summarised in the
// project's reference "sigma-api.md" (Sigma's exportWorkbook and downloadQuery reference pages, its OAuth
// client-credentials scheme and its "Export Workbook Element CSV" recipe), not from any client's code.
//
//	srv := sigmatest.New(sigmatest.Options{
//		ClientID: "id", ClientSecret: "secret",
//		WorkbookID: "wb", ElementID: "el", ControlID: "API-Date-Filter",
//		Header: []string{"Timestamp", "Event Id"}, TimeColumn: "Timestamp",
//		Rows: [][]string{{"2026-11-17 00:16:44.515171", "e1"}},
//	})
//	defer srv.Close()
//	// srv.URL is the base URL; the endpoints are under srv.URL + "/v2".
//
// # Endpoints
//
//   - POST /v2/auth/token, form-encoded. grant_type=client_credentials with client_id and client_secret, or
//     grant_type=refresh_token with refresh_token, client_id and client_secret. Answers JSON access_token,
//     token_type "bearer", expires_in (seconds) and refresh_token. A wrong client ID or secret, or an unknown
//     refresh token, is 401; a missing field, another grant type or another Content-Type is 400. Credentials
//     are read from the form only (not HTTP Basic), as the contract describes.
//   - POST /v2/workbooks/{workbookId}/export, JSON {elementId, format: {type}, parameters, rowLimit, offset,
//     runAsynchronously}. Answers {"queryId": "..."}. An unknown workbook is 404, and so is an unknown
//     element (the message names it); a missing elementId or format, a format other than csv, json or jsonl,
//     a parameters key other than the control ID (the message names the key), a control value that is not
//     "min:YYYY-MM-DD,max:YYYY-MM-DD" (either part may be left out; min after max is an error), a negative
//     rowLimit or offset, a field of the wrong type and a field the contract does not list (names are
//     matched exactly) are 400.
//   - GET /v2/query/{queryId}/download. Answers 204 with no body for the first Options.Polls calls of a query
//     (or, with Options.PendingAsJSON, 200 with Content-Type application/json and {"status": 204, ...}),
//     then 200 with the file, as often as it is asked for. An unknown or expired (ExpireQueries) query is 404.
//
// Every call but the token's needs "Authorization: Bearer <access_token>" with a token that is known, not
// expired (Options.TokenTTL, on the Options.Now clock) and not revoked by ExpireTokens; otherwise 401. Every
// error answer is JSON {"message", "code", "requestId"}: code is a short string such as "not_found" or
// "bad_request", requestId is fresh for each answer. Other paths are 404 and wrong methods 405, in the same
// form.
//
// # What an export returns
//
// An export snapshots its result when it is requested: SetRows afterwards does not change it. The result is
// the element's rows, in the element's order, whose event time (Options.TimeColumn) falls on a calendar
// date in [min, max] in Options.Zone; then offset rows are skipped and at most rowLimit kept (rowLimit 0 or
// absent means Options.MaxRows, and a larger one is capped to it). With no control value every row is
// exported; with one, a row whose time is empty or unreadable is in no range. Event times are read as
// "2006-01-02 15:04:05.999999" (fraction optional) or RFC 3339, with a space or a T; a time without an
// offset is UTC.
//
// # Files
//
//   - csv: a header line of the element's column names, then one record per row, quoted as RFC 4180 by
//     encoding/csv, records ending in "\n". An empty value is an empty field.
//   - jsonl: one JSON object per line, keys the column names in header order, every value a JSON string, an
//     empty value JSON null.
//   - json: the same objects in one JSON array.
//
// Files are written row by row as they are sent, with chunked transfer encoding (no Content-Length), so a
// million-row download does not hold the file in memory.
//
// # Limits and faults
//
// The export endpoint and the download endpoint each admit Options.RateLimit requests (default 400) in any
// sliding 60 s; the next gets 429 with a Retry-After of the seconds until a slot frees. Requests answered
// 401 or 429 do not use a slot. Stats.MaxPerMinute reports the most requests either endpoint received in any
// 60 s, 429s included. The token endpoint is not limited. Faults are armed by Fail429Next, Fail500Next, CutNextDownload, ExpireTokens and
// ExpireQueries; each one-shot fault is consumed when it fires. On an export or download request the checks
// run in this order: token (401), armed 429, rate limit (429), then for a download an armed 500, then the
// request itself.
//
// # Assumptions
//
// The contract marks these as assumptions, not Sigma's published word; this server behaves as they say:
//   - a token can expire in the middle of a long pull (TokenTTL, ExpireTokens), and a new one is obtained
//     from the token endpoint; a refresh token stays valid after its access token expires;
//   - the date-range control compares the calendar date of the event time in the org's time zone
//     (Options.Zone), and min and max are both inclusive.
//
// It also fills in what the contract leaves open: the error code is a string, a not-ready download is a bare
// 204 unless PendingAsJSON is set, the row order of an export is the order of Options.Rows, and a jsonl empty
// value is null rather than "".
package sigmatest
