package generate

import (
	"fmt"
	"strings"

	"github.com/auditexport/auditexport/schema"
)

// A plan is the catalog turned into what the generator needs: the header,
// one value generator per column, and which columns each category fills.

type kind uint8

const (
	// Base columns with their own logic, found by column ID.
	kTimestamp kind = iota
	kEventID
	kCategory
	kEventType
	kStatus
	kReason
	kOrg
	kUserID
	kUserEmail
	kObjectID
	kObjectName
	kObjectType
	kRequestID
	kIPAddress
	kUserAgent
	numBaseKinds

	// Other columns, chosen by type and by words in the column ID.
	kUUID
	kEmail
	kIP
	kSQL
	kProse
	kURL
	kEndpoint
	kEnum
	kObjName
	kInt
	kFloat
	kBool
	kJSONObject
	kJSONList
	kJSONEmails
	kTSRel
)

var baseKindByID = map[string]kind{
	"TIMESTAMP": kTimestamp, "EVENT_ID": kEventID, "EVENT_CATEGORY": kCategory, "EVENT_TYPE": kEventType,
	"EVENT_STATUS": kStatus, "EVENT_STATUS_REASON_CODE": kReason, "ORGANIZATION_ID": kOrg, "USER_ID": kUserID,
	"USER_EMAIL": kUserEmail, "OBJECT_ID": kObjectID, "OBJECT_NAME": kObjectName, "OBJECT_TYPE": kObjectType,
	"REQUEST_ID": kRequestID, "IP_ADDRESS": kIPAddress, "USER_AGENT": kUserAgent,
}

// adminRenames are the friendly names an admin renamed in Headers "renamed"
// mode, by column ID, in the order they are tried.
var adminRenames = [][2]string{
	{"USER_EMAIL", "Email Address"},
	{"OBJECT_NAME", "Document Name"},
	{"EVENT_TYPE", "Action"},
	{"IP_ADDRESS", "Client IP Address"},
	{"USER_AGENT", "Browser"},
}

type column struct {
	id, header string
	kind       kind
	enum       []string
	lo, hi     int64  // kInt, kFloat (in units of 10^-dec), kTSRel (seconds, signed)
	dec        int    // kFloat decimals
	raw        bool   // JSONL: the text is a JSON number, bool or value, not a string
	refKinds   uint32 // 1<<objKind: for events on such an object, its ID or name
	refName    bool
}

// objectRefs are the columns that name the event's own object when it is of
// one of the kinds: a query on a workbook carries that workbook's Document Id.
var objectRefs = map[string]struct {
	kinds []objKind
	name  bool
}{
	"DOCUMENT_ID":       {[]objKind{objWorkbook, objDataModel, objDataset}, false},
	"TARGET_USER_ID":    {[]objKind{objMember}, false},
	"TARGET_USER_EMAIL": {[]objKind{objMember}, true},
	"TEAM_ID":           {[]objKind{objTeam}, false},
	"TEAM_NAME":         {[]objKind{objTeam}, true},
	"CONNECTION_ID":     {[]objKind{objConnection}, false},
	"CONNECTION_NAME":   {[]objKind{objConnection}, true},
	"SCHEDULE_ID":       {[]objKind{objSchedule}, false},
	"CONVERSATION_ID":   {[]objKind{objConversation}, false},
	"INPUT_TABLE_ID":    {[]objKind{objInputTable}, false},
	"PROCEDURE_NAME":    {[]objKind{objProcedure}, true},
	"CLIENT_ID":         {[]objKind{objAPIClient}, false},
	"ACCOUNT_TYPE_NAME": {[]objKind{objAccountType}, true},
	"WORKSPACE_ID":      {[]objKind{objWorkspace}, false},
	"FOLDER_ID":         {[]objKind{objFolder}, false},
}

type category struct {
	name string
	prof profile
	cum  []float64 // cumulative event type weights
	cols []int     // generic columns of this category, in header order
}

type plan struct {
	cols     []column
	header   []string
	base     [numBaseKinds]int // column index of each base kind, -1 if absent
	baseCols []int             // generic base columns (no category), in header order
	cats     []category
	catCum   []float64
	renames  map[string]string
}

func newPlan(cat *schema.Catalog, opts Options) (*plan, error) {
	if cat == nil || len(cat.Categories) == 0 || len(cat.Columns) == 0 {
		return nil, fmt.Errorf("catalog has no categories or no columns")
	}
	p := &plan{}
	for i := range p.base {
		p.base[i] = -1
	}
	catIndex := map[string]int{}
	total := 0.0
	for i, c := range cat.Categories {
		prof := profileFor(c.Name, c.Aliases)
		cc := category{name: c.Name, prof: prof, cum: cumulative(len(prof.types), func(j int) float64 { return prof.types[j].w })}
		p.cats = append(p.cats, cc)
		total += prof.weight
		p.catCum = append(p.catCum, total)
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			if _, dup := catIndex[n]; !dup {
				catIndex[n] = i
			}
		}
	}
	for i := range p.catCum {
		p.catCum[i] /= total
	}

	renameTo := map[string]string{}
	if opts.Headers == HeadersRenamed {
		// A new name must not be another column's name, ID or alias, or
		// header resolution would map it to that column.
		// Nor may it read as another column's ID in upper snake case.
		taken := map[string]string{} // nameKey -> column ID
		for _, c := range cat.Columns {
			for _, n := range append([]string{c.Friendly, c.ID, strings.ReplaceAll(c.ID, "_", " ")}, c.Aliases...) {
				taken[nameKey(n)] = c.ID
			}
		}
		p.renames = map[string]string{}
		for _, rn := range adminRenames {
			if owner, ok := taken[nameKey(rn[1])]; ok && owner != rn[0] {
				continue
			}
			for _, c := range cat.Columns {
				if c.ID == rn[0] {
					renameTo[c.ID] = rn[1]
					p.renames[rn[1]] = c.ID
					taken[nameKey(rn[1])] = c.ID
				}
			}
		}
	}

	seen := map[string]bool{}
	for _, c := range cat.Columns {
		if c.ID == "" || seen[c.ID] {
			return nil, fmt.Errorf("catalog column %q: empty or repeated column ID", c.ID)
		}
		seen[c.ID] = true
		if c.ID == "EVENT_ID" && !opts.WithEventID {
			continue
		}
		col := classify(c)
		if ref, ok := objectRefs[c.ID]; ok && c.Type == schema.String {
			for _, k := range ref.kinds {
				col.refKinds |= 1 << k
			}
			col.refName = ref.name
		}
		switch opts.Headers {
		case HeadersIDs:
			col.header = c.ID
		case HeadersRenamed:
			col.header = c.Friendly
			if n, ok := renameTo[c.ID]; ok {
				col.header = n
			}
		default:
			col.header = c.Friendly
		}
		if col.header == "" {
			col.header = c.ID
		}
		idx := len(p.cols)
		p.cols = append(p.cols, col)
		p.header = append(p.header, col.header)
		if bk, ok := baseKindByID[c.ID]; ok {
			p.base[bk] = idx
			continue
		}
		if len(c.Categories) == 0 {
			p.baseCols = append(p.baseCols, idx)
			continue
		}
		added := map[int]bool{}
		for _, n := range c.Categories {
			if ci, ok := catIndex[n]; ok && !added[ci] {
				added[ci] = true
				p.cats[ci].cols = append(p.cats[ci].cols, idx)
			}
		}
	}
	return p, nil
}

// nameKey compares header names case- and space-insensitively.
func nameKey(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), ""))
}

func cumulative(n int, w func(int) float64) []float64 {
	cum := make([]float64, n)
	t := 0.0
	for i := range cum {
		t += w(i)
		cum[i] = t
	}
	for i := range cum {
		cum[i] /= t
	}
	return cum
}

// pick returns the index whose cumulative weight first exceeds u in [0, 1).
func pick(cum []float64, u float64) int {
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	return len(cum) - 1
}

var (
	httpMethods   = []string{"GET", "GET", "GET", "POST", "POST", "PUT", "PATCH", "DELETE"}
	httpCodes     = []string{"200", "200", "200", "200", "201", "204", "400", "401", "403", "404", "429", "500"}
	fileFormats   = []string{"CSV", "CSV", "XLSX", "PDF", "PNG", "JSON"}
	permLevels    = []string{"Can View", "Can View", "Can Explore", "Can Edit", "Can Contribute", "Can Manage"}
	authMethods   = []string{"Password", "SAML", "SAML", "OAuth", "OAuth with password", "API Key"}
	destinations  = []string{"Email", "Email", "Slack", "Microsoft Teams", "Google Drive", "S3", "Webhook"}
	connTypes     = []string{"snowflake", "snowflake", "bigquery", "redshift", "databricks", "postgres"}
	aiProviders   = []string{"OpenAI", "Azure OpenAI", "Anthropic", "Snowflake Cortex", "Google Vertex AI"}
	frequencies   = []string{"Hourly", "Daily", "Daily", "Weekly", "Monthly", "0 6 * * 1-5"}
	statuses      = []string{"Success", "Success", "Success", "Failed", "Pending", "Cancelled"}
	regions       = []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"}
	elementTypes  = []string{"table", "pivot-table", "visualization", "input-table", "text", "control", "dataset"}
	genericWords  = []string{"standard", "custom", "default", "legacy", "embedded", "shared"}
	jsonListWords = []string{"finance", "sales", "q3", "emea", "region", "amount", "customer_id", "status"}
)

// columnEnums are the values of string columns of the built-in catalog whose
// ID alone says too little.
var columnEnums = map[string][]string{
	"IDENTITY_PROVIDER": {"Okta", "Okta", "Microsoft Entra ID", "Google Workspace", "OneLogin", "Sigma"},
	"SETTING_NAME": {"Session timeout", "Allowed email domains", "Two-factor authentication",
		"Default account type", "AI features", "Export limits", "Connection credentials"},
	"PREVIOUS_VALUE":      {"30 minutes", "8 hours", "true", "false", "Viewer", "Creator", "acme.com, acme.de", `{"enabled": false}`},
	"NEW_VALUE":           {"1 hour", "12 hours", "true", "false", "Explorer", "Creator", "acme.com, acme.de, acme.fr", `{"enabled": true}`},
	"ACCOUNT_STATUS":      {"active", "active", "active", "inactive", "pending", "deactivated"},
	"PERMISSION_NAME":     {"Create workbooks", "Download data", "Write SQL", "Manage schedules", "Use AI features"},
	"TEAM_ROLE":           {"Member", "Member", "Member", "Admin"},
	"WAREHOUSE_NAME":      {"ANALYTICS_WH", "ANALYTICS_WH", "REPORTING_WH", "SIGMA_WH", "ETL_WH"},
	"GRANTEE_TYPE":        {"user", "user", "team"},
	"SCHEDULE_CRON":       {"0 6 * * *", "0 8 * * 1", "*/15 * * * *", "0 0 1 * *", "30 7 * * 1-5"},
	"TARGET_TABLE":        {"SIGMA_MAT.SALES_MODEL_1", "SIGMA_MAT.PIPELINE_DM", "WRITEBACK.TARGETS", "WRITEBACK.\"Forecast, Adj\""},
	"AI_MODEL":            {"gpt-4o", "gpt-4.1-mini", "claude-sonnet-4", "gemini-1.5-pro", "mistral-large"},
	"WRITEBACK_OPERATION": {"INSERT", "INSERT", "UPDATE", "DELETE"},
}

// classify picks a value generator for a catalog column from its type and
// the words of its ID. The catalog is data that may grow; this only needs to
// be plausible, and every value it makes parses as the column's type.
func classify(c schema.Column) column {
	col := column{id: c.ID}
	if bk, ok := baseKindByID[c.ID]; ok {
		col.kind = bk
		return col
	}
	if e, ok := columnEnums[c.ID]; ok && c.Type == schema.String {
		col.kind, col.enum = kEnum, e
		return col
	}
	words := strings.Split(strings.ToUpper(c.ID), "_")
	last := words[len(words)-1]
	has := func(ws ...string) bool {
		for _, w := range words {
			for _, x := range ws {
				if w == x {
					return true
				}
			}
		}
		return false
	}
	enum := func(e []string) column { col.kind, col.enum = kEnum, e; return col }

	switch strings.ToLower(string(c.Type)) {
	case "bool", "boolean":
		col.kind, col.raw = kBool, true
		return col
	case "int", "integer", "bigint", "long":
		col.kind, col.raw, col.lo, col.hi = kInt, true, 0, 1000
		switch {
		case has("CODE", "HTTP", "STATUS"):
			col.kind, col.enum = kEnum, httpCodes
		case has("SECONDS", "SECS", "SEC"):
			col.hi = 3600
		case has("DURATION", "MS", "MILLIS", "LATENCY", "ELAPSED", "TIME"):
			col.lo, col.hi = 3, 600_000
		case has("BYTES", "SIZE"):
			col.hi = 5_000_000_000
		case has("ROWS", "ROW", "COUNT", "NUM", "NUMBER", "TOTAL", "RECORDS"):
			col.hi = 250_000
		case has("VERSION"):
			col.lo, col.hi = 1, 500
		}
		return col
	case "float", "double", "decimal", "number", "numeric":
		col.kind, col.raw, col.dec, col.lo, col.hi = kFloat, true, 2, 0, 1_000_000
		switch {
		case has("COST", "CREDITS", "CREDIT"):
			col.dec, col.hi = 4, 500_000
		case has("SECONDS", "DURATION", "SECS", "ELAPSED"):
			col.dec, col.lo, col.hi = 3, 50, 3_600_000
		}
		return col
	case "timestamp", "timestamp_tz", "timestamp_ntz", "datetime":
		col.kind, col.lo, col.hi = kTSRel, -3600, 0
		switch {
		case has("NEXT", "EXPIRES", "EXPIRY", "EXPIRATION", "DUE", "SCHEDULED"):
			col.lo, col.hi = 3600, 7*86400
		case has("END", "ENDED", "FINISH", "FINISHED", "COMPLETED", "STOP"):
			col.lo, col.hi = 0, 3600
		case has("CREATED", "LAST", "MODIFIED", "UPDATED", "INVITED"):
			col.lo, col.hi = -30*86400, -60
		}
		return col
	case "json", "variant", "object", "array":
		col.raw = true
		switch {
		case has("RECIPIENTS", "RECIPIENT", "EMAILS", "USERS", "MEMBERS"):
			col.kind = kJSONEmails
		case has("IDS", "LIST", "TAGS", "COLUMNS", "FIELDS", "FILTERS", "ELEMENTS", "SCOPES"):
			col.kind = kJSONList
		default:
			col.kind = kJSONObject
		}
		return col
	}
	// string, or a type this package does not know: text.
	switch {
	case last == "ID" || last == "UUID" || last == "IDS" || last == "TOKEN":
		col.kind = kUUID
	case has("EMAIL", "EMAILS"):
		col.kind = kEmail
	case last == "IP" || has("IP") && has("ADDRESS"):
		col.kind = kIP
	case has("QUERY", "SQL", "STATEMENT"):
		col.kind = kSQL
	case has("PROMPT", "MESSAGE", "QUESTION", "RESPONSE", "COMMENT", "TEXT", "DESCRIPTION", "BODY", "NOTE", "SUMMARY", "REASON"):
		col.kind = kProse
	case has("URL", "LINK"):
		col.kind = kURL
	case has("ENDPOINT", "PATH", "ROUTE"):
		col.kind = kEndpoint
	case has("METHOD") && !has("AUTH", "AUTHENTICATION", "LOGIN"):
		return enum(httpMethods)
	case has("FORMAT", "EXTENSION", "FILE"):
		return enum(fileFormats)
	case has("PERMISSION", "PERMISSIONS", "ROLE", "ACCESS", "LEVEL"):
		return enum(permLevels)
	case has("AUTH", "AUTHENTICATION", "LOGIN", "SSO"):
		return enum(authMethods)
	case has("DESTINATION", "CHANNEL", "DELIVERY"):
		return enum(destinations)
	case has("CONNECTION", "WAREHOUSE", "DATABASE", "CDW") && last == "TYPE":
		return enum(connTypes)
	case has("CONNECTION", "WAREHOUSE", "DATABASE", "CDW"):
		return enum(connectionNames)
	case has("TEAM", "TEAMS", "GROUP"):
		return enum(teamNames)
	case has("ACCOUNT") && has("TYPE"):
		return enum(accountTypes)
	case has("PROVIDER", "MODEL", "LLM"):
		return enum(aiProviders)
	case has("PROCEDURE"):
		return enum(procedureNames)
	case has("SCHEDULE", "FREQUENCY", "CRON", "CADENCE"):
		return enum(frequencies)
	case has("STATUS", "STATE", "RESULT", "OUTCOME"):
		return enum(statuses)
	case has("REGION", "LOCATION"):
		return enum(regions)
	case last == "NAME" || last == "TITLE":
		col.kind = kObjName
	case last == "TYPE" || last == "KIND" || last == "SOURCE":
		return enum(elementTypes)
	default:
		return enum(genericWords)
	}
	return col
}
