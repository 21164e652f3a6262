package generate

// Event categories, their weights and event types. Categories and event types
// are open sets in Sigma's audit log; a catalog category this file does not
// know gets a small weight and generic event types.

type objKind uint8

const (
	objNone objKind = iota
	objWorkbook
	objDataModel
	objDataset
	objWorkspace
	objFolder
	objConnection
	objTeam
	objAccountType
	objMember
	objSchedule
	objInputTable
	objProcedure
	objAPIClient
	objConversation
	numObjKinds
)

// objectTypeLabel is the Object Type value of each kind.
var objectTypeLabel = [numObjKinds]string{
	"", "workbook", "data-model", "dataset", "workspace", "folder", "connection", "team",
	"account-type", "member", "schedule", "input-table", "stored-procedure", "api-client", "conversation",
}

type failMode uint8

const (
	failGeneric failMode = iota // rare failures with generic reasons
	failLogin                   // always Failure: invalid credentials / No matching record
	failQuery                   // warehouse failures, a little more often
	failAPI                     // HTTP-ish failures
	failSystem                  // scheduled runs by Sigma itself
)

type uaMode uint8

const (
	uaBrowser uaMode = iota // a person in a browser
	uaAPI                   // an API client
	uaSystem                // Sigma itself: no user agent, no IP address
)

type evType struct {
	name string
	w    float64
	obj  objKind
	fail failMode
	ua   uaMode
}

type profile struct {
	weight float64 // relative share of events
	types  []evType
}

// knownProfile returns the profile of a documented category.
func knownProfile(name string) (profile, bool) {
	switch name {
	case "QUERY_EXECUTIONS":
		return profile{40, []evType{
			{"Execute Workbook Query", 55, objWorkbook, failQuery, uaBrowser},
			{"Execute Dataset Query", 8, objDataset, failQuery, uaBrowser},
			{"Execute Data Model Query", 12, objDataModel, failQuery, uaBrowser},
			{"Refresh Element", 15, objWorkbook, failQuery, uaBrowser},
			{"Execute Custom SQL", 6, objWorkbook, failQuery, uaBrowser},
			{"Execute Scheduled Query", 4, objSchedule, failQuery, uaSystem},
		}}, true
	case "OBJECT_INTERACTION":
		return profile{30, []evType{
			{"View Workbook", 45, objWorkbook, failGeneric, uaBrowser},
			{"Edit Workbook", 12, objWorkbook, failGeneric, uaBrowser},
			{"Publish Workbook", 5, objWorkbook, failGeneric, uaBrowser},
			{"Create Workbook", 3, objWorkbook, failGeneric, uaBrowser},
			{"Duplicate Workbook", 2, objWorkbook, failGeneric, uaBrowser},
			{"Delete Workbook", 1, objWorkbook, failGeneric, uaBrowser},
			{"View Data Model", 8, objDataModel, failGeneric, uaBrowser},
			{"Edit Data Model", 3, objDataModel, failGeneric, uaBrowser},
			{"View Dataset", 5, objDataset, failGeneric, uaBrowser},
			{"Open Workspace", 4, objWorkspace, failGeneric, uaBrowser},
			{"Move Document", 1, objFolder, failGeneric, uaBrowser},
			{"Rename Document", 1, objWorkbook, failGeneric, uaBrowser},
		}}, true
	case "ACCESS_SIGMA":
		return profile{6, []evType{
			{"Login", 55, objNone, failGeneric, uaBrowser},
			{"Logout", 30, objNone, failGeneric, uaBrowser},
			{"Failed Login", 10, objNone, failLogin, uaBrowser},
			{"Reset Password", 3, objNone, failGeneric, uaBrowser},
			{"Update Authentication Settings", 2, objNone, failGeneric, uaBrowser},
		}}, true
	case "PUBLIC_API":
		return profile{6, []evType{
			{"API Request", 80, objAPIClient, failAPI, uaAPI},
			{"Generate Access Token", 15, objAPIClient, failAPI, uaAPI},
			{"Create Client Credentials", 3, objAPIClient, failGeneric, uaBrowser},
			{"Revoke Client Credentials", 2, objAPIClient, failGeneric, uaBrowser},
		}}, true
	case "EXPORTS":
		return profile{4, []evType{
			{"Download CSV", 45, objWorkbook, failGeneric, uaBrowser},
			{"Download Excel", 25, objWorkbook, failGeneric, uaBrowser},
			{"Download PDF", 15, objWorkbook, failGeneric, uaBrowser},
			{"Send Export to Email", 10, objWorkbook, failGeneric, uaBrowser},
			{"Export to Cloud Storage", 5, objWorkbook, failGeneric, uaBrowser},
		}}, true
	case "SCHEDULES":
		return profile{4, []evType{
			{"Run Scheduled Export", 80, objSchedule, failSystem, uaSystem},
			{"Create Schedule", 8, objSchedule, failGeneric, uaBrowser},
			{"Update Schedule", 7, objSchedule, failGeneric, uaBrowser},
			{"Pause Schedule", 3, objSchedule, failGeneric, uaBrowser},
			{"Delete Schedule", 2, objSchedule, failGeneric, uaBrowser},
		}}, true
	case "PERMISSIONS":
		return profile{2, []evType{
			{"Grant Permission", 55, objFolder, failGeneric, uaBrowser},
			{"Update Permission", 20, objWorkbook, failGeneric, uaBrowser},
			{"Revoke Permission", 15, objWorkbook, failGeneric, uaBrowser},
			{"Share Document", 10, objWorkbook, failGeneric, uaBrowser},
		}}, true
	case "MATERIALIZATIONS":
		return profile{2, []evType{
			{"Run Materialization", 85, objDataModel, failSystem, uaSystem},
			{"Create Materialization Schedule", 8, objDataModel, failGeneric, uaBrowser},
			{"Update Materialization Schedule", 5, objDataset, failGeneric, uaBrowser},
			{"Delete Materialization Schedule", 2, objDataset, failGeneric, uaBrowser},
		}}, true
	case "AI_CONVERSATIONS":
		return profile{1.5, []evType{
			{"Send Prompt", 50, objConversation, failGeneric, uaBrowser},
			{"Receive Response", 40, objConversation, failGeneric, uaBrowser},
			{"Start Conversation", 10, objConversation, failGeneric, uaBrowser},
		}}, true
	case "USER_ACCOUNT":
		return profile{1, []evType{
			{"Invite User", 35, objMember, failGeneric, uaBrowser},
			{"Accept Invitation", 30, objMember, failGeneric, uaBrowser},
			{"Update User Account Type", 15, objMember, failGeneric, uaBrowser},
			{"Deactivate User", 12, objMember, failGeneric, uaBrowser},
			{"Reactivate User", 5, objMember, failGeneric, uaBrowser},
			{"Delete User", 3, objMember, failGeneric, uaBrowser},
		}}, true
	case "TEAMS":
		return profile{1, []evType{
			{"Add Team Member", 50, objTeam, failGeneric, uaBrowser},
			{"Remove Team Member", 25, objTeam, failGeneric, uaBrowser},
			{"Create Team", 10, objTeam, failGeneric, uaBrowser},
			{"Update Team", 10, objTeam, failGeneric, uaBrowser},
			{"Delete Team", 5, objTeam, failGeneric, uaBrowser},
		}}, true
	case "WRITEBACK":
		return profile{0.6, []evType{
			{"Insert Row", 50, objInputTable, failQuery, uaBrowser},
			{"Update Row", 35, objInputTable, failQuery, uaBrowser},
			{"Delete Row", 15, objInputTable, failQuery, uaBrowser},
		}}, true
	case "CONNECTION":
		return profile{0.5, []evType{
			{"Browse Connection", 50, objConnection, failGeneric, uaBrowser},
			{"Test Connection", 25, objConnection, failQuery, uaBrowser},
			{"Update Connection", 15, objConnection, failGeneric, uaBrowser},
			{"Create Connection", 7, objConnection, failGeneric, uaBrowser},
			{"Delete Connection", 3, objConnection, failGeneric, uaBrowser},
		}}, true
	case "STORED_PROCEDURES":
		return profile{0.5, []evType{
			{"Call Stored Procedure", 85, objProcedure, failQuery, uaBrowser},
			{"Create Stored Procedure Action", 10, objProcedure, failGeneric, uaBrowser},
			{"Delete Stored Procedure Action", 5, objProcedure, failGeneric, uaBrowser},
		}}, true
	case "ACCOUNT_TYPE":
		return profile{0.4, []evType{
			{"Assign Account Type", 60, objAccountType, failGeneric, uaBrowser},
			{"Update Account Type Permissions", 25, objAccountType, failGeneric, uaBrowser},
			{"Create Account Type", 10, objAccountType, failGeneric, uaBrowser},
			{"Delete Account Type", 5, objAccountType, failGeneric, uaBrowser},
		}}, true
	case "AI_SETTINGS":
		return profile{0.3, []evType{
			{"Update AI Provider", 50, objNone, failGeneric, uaBrowser},
			{"Enable AI Features", 30, objNone, failGeneric, uaBrowser},
			{"Disable AI Features", 20, objNone, failGeneric, uaBrowser},
		}}, true
	}
	return profile{}, false
}

// genericProfile is used for catalog categories this package does not know.
var genericProfile = profile{0.4, []evType{
	{"Create", 30, objWorkbook, failGeneric, uaBrowser},
	{"Update", 40, objWorkbook, failGeneric, uaBrowser},
	{"Delete", 10, objWorkbook, failGeneric, uaBrowser},
	{"View", 20, objWorkbook, failGeneric, uaBrowser},
}}

// profileFor finds the profile of a catalog category by its name, its
// aliases, or its singular/plural spelling.
func profileFor(name string, aliases []string) profile {
	for _, n := range append([]string{name}, aliases...) {
		if p, ok := knownProfile(n); ok {
			return p
		}
		if len(n) > 1 && n[len(n)-1] == 'S' {
			if p, ok := knownProfile(n[:len(n)-1]); ok {
				return p
			}
		}
		if p, ok := knownProfile(n + "S"); ok {
			return p
		}
	}
	return genericProfile
}

// Failure reasons (Event Status Reason Code) by failure mode.
var (
	reasonsLogin   = []string{"invalid credentials", "invalid credentials", "No matching record"}
	reasonsGeneric = []string{"Permission denied", "No matching record", "Invalid request"}
	reasonsQuery   = []string{"Query timeout", "Warehouse unavailable", "Permission denied", "Query cancelled"}
	reasonsAPI     = []string{"Unauthorized", "Not found", "Rate limit exceeded", "Invalid request"}
	reasonsSystem  = []string{"Export delivery failed", "Query timeout", "Recipient not found"}
)

// failRate is the probability of Failure for each mode (failLogin is always).
var failRate = [...]float64{failGeneric: 0.008, failLogin: 1, failQuery: 0.025, failAPI: 0.04, failSystem: 0.02}

func failReasons(m failMode) []string {
	switch m {
	case failLogin:
		return reasonsLogin
	case failQuery:
		return reasonsQuery
	case failAPI:
		return reasonsAPI
	case failSystem:
		return reasonsSystem
	}
	return reasonsGeneric
}
