// Package sigmaapi is the sigma-api source kind: audit rows pulled straight
// from Sigma through its public REST API. Sigma has no endpoint that returns
// audit rows, but it exports any workbook element on request, filtered by
// page-control values; so the org keeps one workbook on the Sigma Audit Logs
// connection with a table element of every audit column (sorted by event
// time) and a date-range page control on the event time, and this source
// asks for one window of calendar days at a time:
//
//	POST /v2/auth/token                       client credentials (SIGMA_CLIENT_ID, SIGMA_CLIENT_SECRET)
//	POST /v2/workbooks/{workbook}/export      elementId, format, parameters {control: "min:D1,max:D2"}, rowLimit, offset
//	GET  /v2/query/{queryId}/download         204 until ready (polled with backoff), then the file
//
// The download streams into the same CSV or JSON Lines decoder as a landed
// export, so memory does not grow with a window's size. A download that
// holds exactly row_limit rows may be cut at the cap: the window is read
// again in chunks (offset), each overlapping the one before by up to 1,000
// rows that must come back the same, so a row that moved between requests
// fails the read instead of going missing; the overlap is not returned
// twice. A body cut short is a failed read, never fewer rows.
//
// 429 and 5xx answers and network errors are retried with backoff for up to
// retry_for, honouring Retry-After; requests are paced below
// requests_per_minute (Sigma allows 400 per minute on these endpoints); a 401
// gets a new token and one more try; 400, 403 and 404 are permanent, and the
// error names the settings to check. The client secret is read from the
// environment only and appears in no error.
//
// Assumed where Sigma's documentation is silent (each can be corrected by
// configuration): the date-range control compares calendar dates of the
// event time in control_timezone, both bounds included; a token can expire
// during a long pull; the rows of a window keep their order between
// requests unless new ones arrive, which come last when the element is
// sorted by event time.
package sigmaapi
