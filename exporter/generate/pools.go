package generate

import (
	"math/rand/v2"
	"strconv"
)

// Pools are the org's users, objects and devices, built once per Generate
// from the seed; events pick from them.

type user struct {
	id, email string
	ip        string // usual address
	ua        string // usual browser
}

type object struct {
	id, name string
}

type pools struct {
	org     string
	users   []user // people
	bots    []user // service accounts used by API clients
	objects [numObjKinds][]object
}

const (
	numUsers    = 320
	numBots     = 6
	emailDomain = "@acme-analytics.example.com"
)

var firstNames = []string{
	"ana", "ben", "carla", "dev", "elena", "farid", "grace", "hiro", "ines", "jamal", "kofi", "lena",
	"mateo", "nadia", "oskar", "priya", "quinn", "rosa", "sven", "tariq", "uma", "victor", "wei", "ximena",
	"yusuf", "zoe", "noemi", "liam", "ava", "ethan", "mia", "lucas", "sofia", "omar", "hannah", "ravi",
}

var lastNames = []string{
	"garcia", "smith", "nguyen", "mueller", "kowalski", "okafor", "tanaka", "rossi", "dubois", "silva",
	"o'brien", "andersson", "kim", "patel", "haddad", "johnson", "novak", "fischer", "lopez", "chen",
	"murphy", "santos", "ivanova", "de-vries", "ahmed", "brown", "yamamoto", "costa", "walsh", "berg",
}

var browserAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
}

var apiAgents = []string{
	"python-requests/2.32.3",
	"curl/8.9.1",
	"Go-http-client/2.0",
	"node-fetch/3.3.2",
	"PostmanRuntime/7.42.0",
	"Apache-HttpClient/4.5.14 (Java/17.0.12)",
}

// specialWorkbooks are workbook names that need CSV quoting or are not ASCII.
// They sit at low indexes, which the skewed object choice favours, so every
// export of a few hundred rows contains some. Exactly one holds a newline.
var specialWorkbooks = map[int]string{
	1:  "Revenue, by Region",
	3:  `"North Star" Metrics`,
	5:  "Q3 Forecast\nDRAFT - do not share",
	8:  "Café Überblick – Umsätze",
	11: "売上ダッシュボード",
	14: `Board Deck, "final", v3`,
	18: "Pipeline 📈 Weekly",
	23: "Ops; Logistics | Carriers",
	29: " Leading space report",
	34: `C:\Reports\legacy import`,
}

var wbSubjects = []string{
	"Revenue", "Pipeline", "Churn", "Bookings", "Support Tickets", "Marketing Spend", "Inventory",
	"Headcount", "ARR", "Product Usage", "Cohort Retention", "Web Traffic", "Orders", "Invoices",
	"Renewals", "Margin", "Forecast", "NPS", "Onboarding", "Fulfilment",
}

var wbViews = []string{
	"Overview", "by Region", "Weekly Review", "Deep Dive", "Dashboard", "Forecast", "- EMEA", "- APAC",
	"(old)", "v2", "Exec Summary", "Scratchpad", "QBR", "Daily", "Drilldown",
}

var tableNames = []string{
	"ORDERS", "ORDER_ITEMS", "CUSTOMERS", "ACCOUNTS", "OPPORTUNITIES", "INVOICES", "PRODUCTS", "EVENTS",
	"SESSIONS", "TICKETS", "EMPLOYEES", "CAMPAIGNS", "SHIPMENTS", "SUBSCRIPTIONS", "PAGEVIEWS",
}

var teamNames = []string{
	"Finance", "Sales Ops", "Marketing", "Data Platform", "Customer Success", "Executives", "Support",
	"Product", "RevOps", "People Ops", "Security", "Partners (external)", "EMEA Sales", "APAC Sales",
	"Analytics Engineering", "Growth", "Legal", "Procurement", "Supply Chain", "Board",
}

var connectionNames = []string{
	"Snowflake - PROD", "Snowflake - DEV", "BigQuery Analytics", "Redshift (legacy)", "Databricks SQL",
	"PostgreSQL replica", "Snowflake - Finance, restricted", "Sigma Sample Database",
}

var accountTypes = []string{"Admin", "Creator", "Explorer", "Viewer", "Lite", "Essential", "Embed User"}

var scheduleNames = []string{
	"Daily sales to finance", "Weekly KPI digest", "Monday pipeline, EMEA", "Month-end close pack",
	"Hourly inventory alert", "Churn watchlist", "Exec summary (PDF)", "Board metrics",
	"Support backlog to Slack", `"Urgent" tickets alert`,
}

var procedureNames = []string{
	"REFRESH_FORECAST", "APPROVE_DISCOUNT", "SYNC_CRM", "RECALC_QUOTAS", "ARCHIVE_TICKETS", "LOAD_TARGETS",
}

var conversationTitles = []string{
	"Why did revenue drop in Q3?", "Top 10 customers by ARR", "Explain this chart", "Build a cohort table",
	"Compare EMEA, APAC and NA", `What does "net retention" mean here?`, "Forecast next month",
	"Summarise support tickets", "¿Ventas por región?", "Find anomalies in orders",
}

func newPools(seed uint64) *pools {
	r := rand.New(rand.NewPCG(seed, 0x706f6f6c73)) // "pools"
	p := &pools{org: string(appendUUID(nil, r.Uint64(), r.Uint64()))}
	seen := map[string]bool{}
	for len(p.users) < numUsers {
		first := firstNames[r.IntN(len(firstNames))]
		last := lastNames[r.IntN(len(lastNames))]
		local := first + "." + last
		if r.IntN(10) == 0 {
			local = first[:1] + last
		}
		for n := 2; seen[local]; n++ {
			local = first + "." + last + strconv.Itoa(n)
		}
		seen[local] = true
		p.users = append(p.users, user{
			id:    userID(r),
			email: local + emailDomain,
			ip:    string(appendIP(nil, r)),
			ua:    browserAgents[skewed(r, len(browserAgents))],
		})
	}
	for i := 0; i < numBots; i++ {
		p.bots = append(p.bots, user{
			id:    userID(r),
			email: "svc-" + []string{"embed", "etl", "reporting", "scim", "backup", "ci"}[i] + emailDomain,
			ip:    string(appendIP(nil, r)),
			ua:    apiAgents[i],
		})
	}

	add := func(k objKind, name string) {
		p.objects[k] = append(p.objects[k], object{id: string(appendUUID(nil, r.Uint64(), r.Uint64())), name: name})
	}
	for i := 0; i < 240; i++ {
		name, ok := specialWorkbooks[i]
		if !ok {
			name = wbSubjects[r.IntN(len(wbSubjects))] + " " + wbViews[r.IntN(len(wbViews))]
			if i >= len(wbSubjects)*2 {
				name += " " + strconv.Itoa(i)
			}
		}
		add(objWorkbook, name)
	}
	for i := 0; i < 40; i++ {
		add(objDataModel, wbSubjects[i%len(wbSubjects)]+" Model"+suffix(i, len(wbSubjects)))
	}
	for i := 0; i < 60; i++ {
		add(objDataset, "PROD."+tableNames[i%len(tableNames)]+suffix(i, len(tableNames)))
	}
	for i := 0; i < 25; i++ {
		add(objWorkspace, teamNames[i%len(teamNames)]+" Workspace"+suffix(i, len(teamNames)))
	}
	for i := 0; i < 60; i++ {
		add(objFolder, "My Documents/"+wbSubjects[i%len(wbSubjects)]+suffix(i, len(wbSubjects)))
	}
	for _, n := range connectionNames {
		add(objConnection, n)
	}
	for _, n := range teamNames {
		add(objTeam, n)
	}
	for _, n := range accountTypes {
		add(objAccountType, n)
	}
	for _, u := range p.users {
		p.objects[objMember] = append(p.objects[objMember], object{id: u.id, name: u.email})
	}
	for _, n := range scheduleNames {
		add(objSchedule, n)
	}
	for i := 0; i < 20; i++ {
		add(objInputTable, "Input - "+wbSubjects[i%len(wbSubjects)]+" targets")
	}
	for _, n := range procedureNames {
		add(objProcedure, n)
	}
	for _, b := range p.bots {
		add(objAPIClient, b.email[:len(b.email)-len(emailDomain)]+" client")
	}
	for _, n := range conversationTitles {
		add(objConversation, n)
	}
	return p
}

func suffix(i, n int) string {
	if i < n {
		return ""
	}
	return " " + strconv.Itoa(i/n+1)
}

// skewed picks an index in [0, n) favouring low indexes (a few popular
// workbooks, a few very active users): index 0 gets about 1/sqrt(n) of picks.
func skewed(r *rand.Rand, n int) int {
	u := r.Float64()
	return int(u * u * float64(n))
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func userID(r *rand.Rand) string {
	b := make([]byte, 22)
	for i := range b {
		b[i] = base62[r.IntN(len(base62))]
	}
	return string(b)
}

// appendIP appends a public-looking IPv4 (80%) or IPv6 address.
func appendIP(b []byte, r *rand.Rand) []byte {
	if r.IntN(5) != 0 {
		firsts := [...]byte{24, 38, 52, 63, 67, 73, 81, 89, 98, 104, 136, 151, 172, 185, 203, 212}
		b = strconv.AppendUint(b, uint64(firsts[r.IntN(len(firsts))]), 10)
		for i := 0; i < 3; i++ {
			b = append(b, '.')
			b = strconv.AppendUint(b, uint64(r.IntN(255)+1), 10)
		}
		return b
	}
	prefixes := [...]string{"2600:1700:", "2a02:c7c:", "2001:569:", "2409:8a1e:", "2603:8000:"}
	b = append(b, prefixes[r.IntN(len(prefixes))]...)
	b = strconv.AppendUint(b, uint64(r.IntN(0x10000)), 16)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(r.IntN(0x10000)), 16)
	b = append(b, "::"...)
	b = strconv.AppendUint(b, uint64(r.IntN(0xffff)+1), 16)
	return b
}
