package ui

// partMessages are the texts of the pages of the platform's parts
// (workflows, sales rules, reports), kept apart from the core's messages
// and merged into them at start (a key in both panics).
var partMessages = map[string][2]string{
	"status":                {"Status", "状态"},
	"no_transitions":        {"You cannot change it now.", "您现在不能修改。"},
	"approvals":             {"Approvals", "审批"},
	"approval_history":      {"Approval history", "审批记录"},
	"approval_pending":      {"Pending", "审批中"},
	"approval_approved":     {"Approved", "已批准"},
	"approval_rejected":     {"Rejected", "已驳回"},
	"approval_recalled":     {"Recalled", "已撤回"},
	"waiting_for":           {"waiting for %s", "等待 %s 审批"},
	"submitted_by":          {"Submitted by %s", "提交人：%s"},
	"step":                  {"Step", "步骤"},
	"decision":              {"Decision", "结果"},
	"decision_submitted":    {"Submitted", "提交"},
	"decision_approved":     {"Approved", "批准"},
	"decision_rejected":     {"Rejected", "驳回"},
	"decision_skipped":      {"Skipped", "跳过"},
	"decision_recalled":     {"Recalled", "撤回"},
	"decision_reassigned":   {"Reassigned", "转交"},
	"waiting_for_you":       {"Waiting for you", "待您处理"},
	"nothing_waiting":       {"Nothing waits for you.", "暂无待办。"},
	"task_approval":         {"Approval", "审批"},
	"task_reminder":         {"Reminder", "提醒"},
	"not_allowed":           {"not allowed", "不允许"},
	"board_stuck":           {"No move is open to it now (the state workflow or your rights).", "目前不能移动（状态流程或您的权限不允许）。"},
	"board_read_only":       {"You may not change this record.", "您无权修改此记录。"},
	"move_not_here":         {"Not allowed here: the state workflow or your rights", "不能移到这里：状态流程或您的权限不允许"},
	"task_notification":     {"Notification", "通知"},
	"mark_read":             {"Mark as read", "标为已读"},
	"mark_read_of":          {"Mark %s as read", "将“%s”标为已读"},
	"marked_read":           {"Marked as read.", "已标为已读。"},
	"since":                 {"Since", "开始时间"},
	"convert_title":         {"Convert %s %s", "转换%s %s"},
	"convert_duplicates":    {"Records like this one exist already: choose one to use, or create a new one where that is allowed.", "已存在相似的记录：请选择使用其中一条，或在允许时仍然新建。"},
	"convert_use":           {"Use %s", "使用 %s"},
	"convert_hidden":        {"%d more you cannot see.", "另有 %d 条您无权查看。"},
	"convert_create_anyway": {"Create a new one anyway", "仍然新建"},
	"convert_create":        {"Create a %s", "新建%s"},
	"convert_keep":          {"The record chosen", "已选择的记录"},
	"convert_skip":          {"Do not create one", "不新建"},
	"converted":             {"Converted.", "已转换。"},
	"reports":               {"Reports", "报表"},
	"no_reports":            {"No reports for you.", "没有可用的报表。"},
	"all_reports":           {"All reports", "全部报表"},
	"export_csv":            {"Export CSV", "导出 CSV"},
	"export_xlsx":           {"Export Excel", "导出 Excel"},
	"any_value":             {"(any)", "（全部）"},
	"run_report":            {"Run", "运行"},
	"chart_of":              {"Chart of %s", "%s 图表"},
	"no_value":              {"(none)", "（空）"},
	"report_truncated":      {"More records matched than the report shows.", "符合条件的记录多于报表显示的数量。"},
	"back_to_report":        {"Back to the report", "返回报表"},
	"drill_title":           {"Records of %s", "%s 明细"},
	"open_report":           {"Open the report", "打开报表"},
	"import_title":          {"Import %s", "导入%s"},
	"import_done":           {"Imported", "导入完成"},
	"import_counts":         {"%d created, %d updated, %d skipped.", "新建 %d 条，更新 %d 条，跳过 %d 条。"},
	"import_would":          {"As mapped, %d would be created, %d updated and %d skipped.", "按当前对应关系，将新建 %d 条，更新 %d 条，跳过 %d 条。"},
	"import_mapping":        {"Columns and fields", "列与字段的对应"},
	"import_column":         {"Column", "列"},
	"import_row":            {"Row %d", "第 %d 行"},
	"import_field_of":       {"Field of column %s", "列 %s 对应的字段"},
	"import_ignore":         {"(ignore the column)", "（忽略此列）"},
	"import_file":           {"CSV file", "CSV 文件"},
	"import_file_help":      {"UTF-8 or GBK, the first line naming the columns; at most %d MiB.", "UTF-8 或 GBK 编码，第一行为列名；最大 %d MiB。"},
	"import_key":            {"Update the records whose field is the same", "按此字段更新已有记录"},
	"import_no_key":         {"(always create)", "（总是新建）"},
	"import_checked":        {"Check", "检查结果"},
	"import_preview":        {"Check the file", "检查文件"},
	"import_run":            {"Import", "导入"},
	"import_errors":         {"Lines refused", "未导入的行"},
	"import_line":           {"Line", "行号"},
	"import_problem":        {"Problem", "问题"},
	"copy_as_new":           {"Copy as a new definition", "复制为新定义"},
	"duplicate_found":       {"Records like this one exist already:", "已存在相似的记录："},
	"record_hidden":         {"a record you cannot see", "一条您无权查看的记录"},
	"create_anyway":         {"Create it anyway", "仍然新建"},
}

func init() { mergeMessages(partMessages) }

// mergeMessages adds texts kept apart to the UI's messages (a key defined
// twice panics).
func mergeMessages(more map[string][2]string) {
	for k, m := range more {
		if _, dup := messages[k]; dup {
			panic("ui: message " + k + " is defined twice")
		}
		messages[k] = m
	}
}
