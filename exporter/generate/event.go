package generate

import (
	"math/rand/v2"
	"strconv"
)

// Events are pure functions of (seed, day, index): head draws what decides
// which files hold an event (its time, category, lateness), render draws the
// rest of its row. Both reseed one PCG per event, so regenerating an event in
// another export gives the same bytes.

const (
	nsPerDay  = 86400 * int64(1e9)
	saltLate  = 0x6c617465 // "late"
	saltDup   = 0x647570   // "dup"
	saltEvent = 0x6576656e74
	emptyPct  = 8 // percent of an event's own columns left empty
)

type gen struct {
	seed       uint64
	key        uint64 // mix(seed^saltEvent): per-event seeds and event IDs
	start      int64  // unix ns of the first event day
	rowsPerDay uint64
	step       float64 // ns of each event's slot in a day
	mixed      bool
	sched      schedule
	lateProb   float64 // chance that an event near a cut-off arrives after it
	plan       *plan
	pools      *pools

	pcg   *rand.PCG
	r     *rand.Rand
	arena []byte // the text of the current row's values
	cells []cell // per column: its value in arena; a == b is empty
}

// cell locates one value of the current row: arena[a:b].
type cell struct{ a, b int32 }

// head is what an event's membership in the exports depends on.
type head struct {
	n    uint64 // global event number
	day  int
	t    int64 // unix ns, truncated to st's precision
	st   tsStyle
	cat  int
	late bool // misses the first export after t, appears from the next one
}

func newGen(opts Options, s schedule, p *plan, pl *pools) *gen {
	pcg := rand.NewPCG(0, 0)
	return &gen{
		seed:       uint64(opts.Seed),
		key:        mix(uint64(opts.Seed) ^ saltEvent),
		start:      opts.Start.UnixNano(),
		rowsPerDay: uint64(opts.RowsPerDay),
		step:       float64(nsPerDay) / float64(opts.RowsPerDay),
		mixed:      opts.TimestampStyle != TimestampsPlain,
		sched:      s,
		lateProb:   opts.LateRate * float64(s.interval) / float64(s.lateWindow),
		plan:       p,
		pools:      pl,
		pcg:        pcg,
		r:          rand.New(pcg),
		cells:      make([]cell, len(p.cols)),
	}
}

// head seeds the event's generator and draws its time, style, category and
// lateness. Event times are stratified: event i of a day falls in the i-th of
// RowsPerDay equal slots, uniformly within it, so a day's events are uniform
// over the day and (almost) in time order.
func (g *gen) head(day, i int) head {
	n := uint64(day)*g.rowsPerDay + uint64(i)
	g.pcg.Seed(g.key^mix(n), mix(n+g.seed))
	r := g.r
	dayStart := g.start + int64(day)*nsPerDay
	t := dayStart + int64((float64(i)+r.Float64())*g.step)
	if t >= dayStart+nsPerDay {
		t = dayStart + nsPerDay - 1
	}
	st := plainStyle
	if g.mixed {
		st = drawStyle(r)
	}
	t -= t % truncUnit(st.digits)
	h := head{n: n, day: day, t: t, st: st, cat: pick(g.plan.catCum, r.Float64())}
	// Late: the event arrives after the first cut-off after its time. Rows
	// are at most 2 hours late, so only events in the lateWindow before a
	// cut-off can be; lateProb makes LateRate the share of all events.
	if g.lateProb > 0 && unitHash(g.seed, saltLate, n, 0) < g.lateProb {
		if f := g.sched.first(t); f < len(g.sched.runs) && g.sched.runs[f]-t <= g.sched.lateWindow {
			h.late = true
		}
	}
	return h
}

// drawStyle picks one of Snowflake's timestamp text forms.
func drawStyle(r *rand.Rand) tsStyle {
	st := tsStyle{sep: ' '}
	switch u := r.IntN(100); {
	case u < 35:
		st.digits = 3
	case u < 50:
		st.digits = 6
	case u < 60:
		st.digits = 9
	case u < 75:
		st.digits = 0
	default:
		st.digits = [...]uint8{1, 2, 4, 5, 7, 8}[r.IntN(6)]
	}
	switch u := r.IntN(100); {
	case u < 45:
		st.zone = zoneNone
	case u < 60:
		st.zone, st.sep = zoneZ, 'T'
	case u < 75:
		st.zone, st.offMin = zoneUTC, int16(r.IntN(2)-1) // -1: "-0000", 0: "+0000"
	default:
		st.zone, st.offMin = zoneLocal, localOffsets[r.IntN(len(localOffsets))]
	}
	if st.zone != zoneZ && r.IntN(5) == 0 {
		st.sep = 'T'
	}
	return st
}

// mark records arena[from:] as the value of column col (none if col < 0).
func (g *gen) mark(col, from int) {
	if col >= 0 {
		g.cells[col] = cell{int32(from), int32(len(g.arena))}
	}
}

// put appends s as the value of column col.
func (g *gen) put(col int, s string) {
	from := len(g.arena)
	g.arena = append(g.arena, s...)
	g.mark(col, from)
}

// render fills g.arena and g.cells with the row of the event whose head was
// just drawn (the generator's state must be the one head left). Nothing is
// allocated per row.
func (g *gen) render(h head) {
	r, p, pl := g.r, g.plan, g.pools
	b := &p.base
	g.arena = g.arena[:0]
	clear(g.cells)
	cat := &p.cats[h.cat]
	et := &cat.prof.types[pick(cat.cum, r.Float64())]

	from := len(g.arena)
	g.arena = appendTS(g.arena, h.t, h.st)
	g.mark(b[kTimestamp], from)
	if b[kEventID] >= 0 {
		from = len(g.arena)
		hi := mix(h.n + g.key) // a bijection of n: unique per event
		g.arena = appendUUID(g.arena, hi, mix(hi^g.seed))
		g.mark(b[kEventID], from)
	}
	g.put(b[kCategory], cat.name)
	g.put(b[kEventType], et.name)

	failed := et.fail == failLogin || r.Float64() < failRate[et.fail]
	reason := ""
	if failed {
		rs := failReasons(et.fail)
		reason = rs[r.IntN(len(rs))]
		g.put(b[kStatus], "Failure")
		g.put(b[kReason], reason)
	} else {
		g.put(b[kStatus], "Success")
	}
	g.put(b[kOrg], pl.org)

	var u *user
	switch {
	case et.ua == uaAPI:
		u = &pl.bots[skewed(r, len(pl.bots))]
	default:
		u = &pl.users[skewed(r, len(pl.users))]
	}
	if et.fail == failLogin && reason == "No matching record" {
		// Someone Sigma does not know: no user ID, an outside address.
		from = len(g.arena)
		g.arena = append(g.arena, firstNames[r.IntN(len(firstNames))]...)
		g.arena = append(g.arena, '.')
		g.arena = append(g.arena, lastNames[r.IntN(len(lastNames))]...)
		g.arena = append(g.arena, "@gmail.example.com"...)
		g.mark(b[kUserEmail], from)
	} else {
		g.put(b[kUserID], u.id)
		g.put(b[kUserEmail], u.email)
	}

	var obj *object
	if et.obj != objNone {
		objs := pl.objects[et.obj]
		if et.obj == objMember {
			obj = &objs[r.IntN(len(objs))]
		} else {
			obj = &objs[skewed(r, len(objs))]
		}
		g.put(b[kObjectID], obj.id)
		g.put(b[kObjectName], obj.name)
		g.put(b[kObjectType], objectTypeLabel[et.obj])
	}

	from = len(g.arena)
	g.arena = appendUUID(g.arena, r.Uint64(), r.Uint64())
	g.mark(b[kRequestID], from)

	if et.ua != uaSystem {
		if r.IntN(100) < 85 {
			g.put(b[kIPAddress], u.ip)
		} else {
			from = len(g.arena)
			g.arena = appendIP(g.arena, r)
			g.mark(b[kIPAddress], from)
		}
		if et.ua == uaBrowser && r.IntN(10) == 0 {
			g.put(b[kUserAgent], browserAgents[r.IntN(len(browserAgents))])
		} else {
			g.put(b[kUserAgent], u.ua)
		}
	}

	for _, c := range p.baseCols {
		g.value(c, h, et.obj, obj)
	}
	for _, c := range cat.cols {
		if r.IntN(100) >= emptyPct {
			g.value(c, h, et.obj, obj)
		}
	}
}

// value appends a value for generic column ci.
func (g *gen) value(ci int, h head, ok objKind, obj *object) {
	r, pl := g.r, g.pools
	c := &g.plan.cols[ci]
	a := g.arena
	from := len(a)
	if obj != nil && c.refKinds&(1<<ok) != 0 { // the event's own object
		if c.refName {
			g.put(ci, obj.name)
		} else {
			g.put(ci, obj.id)
		}
		return
	}
	switch c.kind {
	case kUUID:
		a = appendUUID(a, r.Uint64(), r.Uint64())
	case kEmail:
		a = append(a, pl.users[r.IntN(len(pl.users))].email...)
	case kIP:
		a = appendIP(a, r)
	case kSQL:
		a = appendSQL(a, r)
	case kProse:
		a = append(a, prose[r.IntN(len(prose))]...)
	case kURL:
		a = append(a, "https://app.sigmacomputing.com/acme-analytics/workbook/"...)
		a = appendHex(a, r.Uint64(), 16)
		if r.IntN(3) == 0 {
			a = append(a, "?:nodeId=Ab3"...)
			a = append(a, base62[r.IntN(62)], base62[r.IntN(62)])
		}
	case kEndpoint:
		a = append(a, endpoints[r.IntN(len(endpoints))]...)
		if r.IntN(2) == 0 {
			a = append(a, '/')
			if obj != nil {
				a = append(a, obj.id...)
			} else {
				a = appendUUID(a, r.Uint64(), r.Uint64())
			}
		}
	case kEnum:
		a = append(a, c.enum[r.IntN(len(c.enum))]...)
	case kObjName:
		ws := pl.objects[objWorkbook]
		a = append(a, ws[skewed(r, len(ws))].name...)
	case kInt:
		a = strconv.AppendInt(a, c.lo+logUniform(r, c.hi-c.lo), 10)
	case kFloat:
		a = appendFixed(a, c.lo+logUniform(r, c.hi-c.lo), c.dec)
	case kBool:
		a = strconv.AppendBool(a, r.IntN(3) == 0)
	case kJSONObject:
		a = appendJSONObject(a, r, obj)
	case kJSONList:
		a = append(a, '[')
		for i, n := 0, 1+r.IntN(4); i < n; i++ {
			if i > 0 {
				a = append(a, ',')
			}
			a = appendJSONString(a, jsonListWords[r.IntN(len(jsonListWords))])
		}
		a = append(a, ']')
	case kJSONEmails:
		a = append(a, '[')
		for i, n := 0, 1+r.IntN(3); i < n; i++ {
			if i > 0 {
				a = append(a, ',')
			}
			a = appendJSONString(a, pl.users[r.IntN(len(pl.users))].email)
		}
		a = append(a, ']')
	case kTSRel:
		secs := c.lo + r.Int64N(c.hi-c.lo+1)
		a = appendTS(a, h.t+secs*1e9, h.st)
	}
	g.arena = a
	g.mark(ci, from)
}

// logUniform draws from [0, span] with each order of magnitude about as
// likely as the next (durations, counts, sizes), in integer arithmetic only.
func logUniform(r *rand.Rand, span int64) int64 {
	mags := 1
	for p := int64(10); p <= span && mags < 18; p *= 10 {
		mags++
	}
	return r.Int64N(min(span+1, pow10i(r.IntN(mags)+1)))
}

func pow10i(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

var endpoints = []string{
	"/v2/workbooks", "/v2/workbooks", "/v2/members", "/v2/teams", "/v2/connections", "/v2/datasets",
	"/v2/auth/token", "/v2/workbooks/export", "/v2/files", "/v2/grants",
}

var prose = []string{
	"Why did revenue drop in Q3?",
	"Show me ARR by region, then by segment",
	`Compare "net new" vs. expansion bookings`,
	"Top 10 customers by spend, excluding partners",
	"Summarise open support tickets\nand group them by priority",
	"¿Cuáles son las ventas por región?",
	"Create a chart of weekly active users 📈",
	"Explain the spike on 11/24",
	"Updated sharing settings per request #4821",
	"Rotated credentials, see ticket SEC-112; approved by J. O'Brien",
}

func appendSQL(a []byte, r *rand.Rand) []byte {
	tbl := tableNames[r.IntN(len(tableNames))]
	limit := int64(100 * (1 + r.IntN(250)))
	switch r.IntN(6) {
	case 0:
		a = append(a, `SELECT "REGION", SUM("AMOUNT") AS "Total, USD" FROM "PROD"."`...)
		a = append(a, tbl...)
		a = append(a, `" GROUP BY 1 ORDER BY 2 DESC LIMIT `...)
		a = strconv.AppendInt(a, limit, 10)
	case 1:
		a = append(a, "with q as (\n  select *\n  from PROD."...)
		a = append(a, tbl...)
		a = append(a, "\n  where status in ('open', 'pending')\n)\nselect count(*) as \"Rows\" from q"...)
	case 2:
		a = append(a, `select "CUSTOMER_NAME", "ARR" from PROD.`...)
		a = append(a, tbl...)
		a = append(a, ` where "CUSTOMER_NAME" ilike '%o''brien%' limit `...)
		a = strconv.AppendInt(a, limit, 10)
	case 3:
		a = append(a, `SELECT * FROM "PROD"."`...)
		a = append(a, tbl...)
		a = append(a, `" LIMIT `...)
		a = strconv.AppendInt(a, limit, 10)
	case 4:
		a = append(a, `select date_trunc('week', "CREATED_AT") as "Week", count(distinct "USER_ID") from PROD.`...)
		a = append(a, tbl...)
		a = append(a, " group by 1"...)
	default:
		a = append(a, `SELECT "PRODUCT", AVG("PRICE") FROM PROD.`...)
		a = append(a, tbl...)
		a = append(a, ` WHERE "NOTE" = 'say "hi", world' GROUP BY 1`...)
	}
	return a
}

func appendJSONObject(a []byte, r *rand.Rand, obj *object) []byte {
	switch r.IntN(4) {
	case 0:
		a = append(a, `{"elementId":"`...)
		a = appendHex(a, r.Uint64(), 10)
		a = append(a, `","source":`...)
		a = appendJSONString(a, elementTypes[r.IntN(len(elementTypes))])
		a = append(a, `,"filters":`...)
		a = strconv.AppendInt(a, int64(r.IntN(6)), 10)
		a = append(a, `,"cached":`...)
		a = strconv.AppendBool(a, r.IntN(2) == 0)
		return append(a, '}')
	case 1:
		a = append(a, `{"before":{"role":`...)
		a = appendJSONString(a, accountTypes[r.IntN(len(accountTypes))])
		a = append(a, `},"after":{"role":`...)
		a = appendJSONString(a, accountTypes[r.IntN(len(accountTypes))])
		return append(a, `}}`...)
	case 2:
		a = append(a, `{"note":`...)
		a = appendJSONString(a, prose[r.IntN(len(prose))])
		a = append(a, `,"tags":["finance","q3"]}`...)
		return a
	default:
		a = append(a, `{"client":"embed","params":{"region":`...)
		a = appendJSONString(a, regions[r.IntN(len(regions))])
		a = append(a, `,"limit":`...)
		a = strconv.AppendInt(a, int64(100*(1+r.IntN(50))), 10)
		if obj != nil {
			a = append(a, `,"object":`...)
			a = appendJSONString(a, obj.name)
		}
		return append(a, `}}`...)
	}
}
