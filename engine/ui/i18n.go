package ui

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/crmplatform/crm/metadata"
)

// languages are the languages of the UI, the first the default.
var languages = []string{"en", "zh"}

// supported reports whether lang is a language of the UI.
func supported(lang string) bool { return contains(languages, lang) }

// messages are the UI's texts by key, in English and Chinese. A test
// checks that every key has both and that the templates name only known
// keys.
var messages = map[string][2]string{
	"builder":               {"Builder", "配置中心"},
	"links":                 {"Links", "链接"},
	"print":                 {"Print", "打印"},
	"printable_page":        {"Printable page", "打印页面"},
	"builder_object":        {"Object %s", "对象 %s"},
	"builder_field":         {"Field %s", "字段 %s"},
	"builder_new_field":     {"New field of %s", "为%s新建字段"},
	"builder_role":          {"Role %s", "角色 %s"},
	"explain_access":        {"Explain access", "权限诊断"},
	"explain_help":          {"Why may a user (not) see or change an object, one of its records, one of its fields? The roles, policies and rules that decide, as the engine decides.", "某个用户为什么能（或不能）查看、修改某个对象、其中一条记录或一个字段？显示做出判断的角色、策略和规则，与引擎的判断一致。"},
	"explain_record":        {"Record id", "记录 ID"},
	"explain_record_help":   {"Optional: the id at the end of a record's address.", "可选：记录地址末尾的 ID。"},
	"explain":               {"Explain", "诊断"},
	"explain_roles":         {"Roles", "角色"},
	"explain_inherited":     {"With inherited roles", "含继承的角色"},
	"explain_read":          {"Read", "查看"},
	"explain_edit":          {"Edit", "修改"},
	"explain_allowed":       {"Allowed", "允许"},
	"explain_denied":        {"Denied", "拒绝"},
	"explain_inactive":      {"inactive", "已停用"},
	"explain_actions":       {"Actions allowed", "允许的操作"},
	"builder_kind":          {"Definitions: %s", "定义：%s"},
	"builder_doc":           {"%s: %s", "%s：%s"},
	"builder_new_doc":       {"New %s", "新建 %s"},
	"versions":              {"Versions", "版本记录"},
	"version":               {"Version", "版本"},
	"version_n":             {"Version %d", "版本 %d"},
	"current_version":       {"now %d", "当前 %d"},
	"what":                  {"What", "内容"},
	"diff_of":               {"Changes of %s", "%s 的改动"},
	"objects":               {"Objects", "对象"},
	"object":                {"Object", "对象"},
	"n_fields":              {"%d fields", "%d 个字段"},
	"n_documents":           {"%d definitions", "%d 个定义"},
	"new_object":            {"New object", "新建对象"},
	"new_role":              {"New role", "新建角色"},
	"api_name":              {"Name (for the API)", "名称（API 使用）"},
	"api_name_help":         {"Lower-case letters, digits and _, starting with a letter.", "小写字母、数字和下划线，以字母开头。"},
	"label":                 {"Label", "标签"},
	"label_en":              {"Label (English)", "标签（英文）"},
	"label_zh":              {"Label (Chinese)", "标签（中文）"},
	"plural_en":             {"Plural label (English)", "复数标签（英文）"},
	"plural_zh":             {"Plural label (Chinese)", "复数标签（中文）"},
	"help_en":               {"Help (English)", "帮助（英文）"},
	"help_zh":               {"Help (Chinese)", "帮助（中文）"},
	"roles_and_rights":      {"Roles and rights", "角色和权限"},
	"other_definitions":     {"Other definitions", "其他定义"},
	"review_change":         {"Review the change", "预览变更"},
	"change_loses_data":     {"This change loses data", "此变更会丢失数据"},
	"force_change":          {"I understand what it loses; apply it anyway", "我已了解会丢失的数据，仍然应用"},
	"apply_change":          {"Apply the change", "应用变更"},
	"applied":               {"The change is applied.", "变更已生效。"},
	"planned_changes":       {"Changes", "变更内容"},
	"plan_sql":              {"Schema changes (SQL)", "数据库结构变更（SQL）"},
	"no_sql":                {"No table changes.", "无数据表变更。"},
	"no_changes":            {"Nothing changes.", "没有变化。"},
	"plan_moved":            {"Someone changed the metadata since you reviewed this change: review the new plan.", "在您预览之后元数据已被他人修改，请重新预览。"},
	"name_taken":            {"This name is taken.", "该名称已被使用。"},
	"no_rename":             {"A definition cannot be renamed; remove it and add a new one.", "定义不能改名，请删除后重新添加。"},
	"not_json":              {"Not valid JSON: %s", "不是有效的 JSON：%s"},
	"open_records":          {"Open the records", "查看记录"},
	"fields":                {"Fields", "字段"},
	"type":                  {"Type", "类型"},
	"notes":                 {"Notes", "说明"},
	"new_field_of_type":     {"New field of type", "新字段类型"},
	"add_field":             {"Add a field", "添加字段"},
	"change_type":           {"Change the type", "更改类型"},
	"object_settings":       {"Object", "对象设置"},
	"title_field":           {"Field naming a record", "标题字段"},
	"description":           {"Description", "描述"},
	"validation_rules":      {"Validation rules", "校验规则"},
	"rules_help":            {"Each condition must hold for every record; the message is shown next to the field named. Leave the last row empty to add none.", "每条记录都必须满足条件，否则在所选字段旁显示提示。最后一行留空则不添加。"},
	"rule_name":             {"Rule name", "规则名称"},
	"rule_field":            {"Field the message goes to", "提示显示在字段"},
	"rule_condition":        {"Condition", "条件"},
	"rule_condition_help":   {`A formula that must be true, such as amount > 0 || stage != "won".`, `必须为真的公式，例如 amount > 0 || stage != "won"。`},
	"message_en":            {"Message (English)", "提示（英文）"},
	"message_zh":            {"Message (Chinese)", "提示（中文）"},
	"delete_object":         {"Delete this object", "删除此对象"},
	"confirm_delete_object": {"Delete this object? Its table is archived.", "确定删除此对象吗？数据表将被归档。"},
	"delete_role":           {"Delete this role", "删除此角色"},
	"confirm_delete_role":   {"Delete this role? Users must not hold it and no role may have it as parent.", "确定删除此角色吗？不能有用户持有它，也不能有角色以它为上级。"},
	"field_basics":          {"Field", "字段"},
	"default_value":         {"Default value", "默认值"},
	"required":              {"Required", "必填"},
	"unique":                {"Unique", "唯一"},
	"tracked":               {"Keep changes in the history", "记录修改历史"},
	"text_options":          {"Text", "文本"},
	"max_length":            {"Maximum length", "最大长度"},
	"pattern":               {"Pattern", "格式"},
	"pattern_help":          {"A regular expression the value must match.", "值必须匹配的正则表达式。"},
	"number_options":        {"Number", "数字"},
	"min":                   {"Minimum", "最小值"},
	"max":                   {"Maximum", "最大值"},
	"scale":                 {"Decimal places", "小数位数"},
	"scale_help":            {"Currency: 0 to 6, 2 when empty.", "货币：0 到 6，留空为 2。"},
	"picklist_values":       {"Values", "选项"},
	"options":               {"Values, one per line", "选项，每行一个"},
	"options_help":          {"value | English | 中文 | controlling values (comma-separated) | key=value attributes", "值 | 英文 | 中文 | 控制字段的取值（逗号分隔）| 属性 key=value"},
	"depends_on":            {"Narrowed by (cascade)", "级联控制字段"},
	"lookup_options":        {"Lookup", "关联"},
	"target":                {"Target object", "关联对象"},
	"on_delete":             {"When the target is deleted", "关联记录被删除时"},
	"numbering":             {"Numbering", "编号"},
	"format":                {"Format", "格式"},
	"format_help":           {"For example CT-{YYYY}-{0000}.", "例如 CT-{YYYY}-{0000}。"},
	"file_options":          {"File", "文件"},
	"max_size":              {"Largest upload (bytes)", "最大上传（字节）"},
	"accept":                {"Accepted content types", "允许的文件类型"},
	"accept_help":           {"Comma-separated, such as image/png, application/pdf.", "逗号分隔，例如 image/png, application/pdf。"},
	"formulas":              {"Formulas", "公式"},
	"formula":               {"Formula (computed field)", "计算公式"},
	"formula_help":          {"Computed and stored by the system, read-only for users, such as amount * 0.1.", "由系统计算并保存，用户只读，例如 amount * 0.1。"},
	"default_formula":       {"Default formula", "默认值公式"},
	"visibility":            {"Visibility", "可见性"},
	"delete_field":          {"Delete this field", "删除此字段"},
	"confirm_delete_field":  {"Delete this field? Its column is archived.", "确定删除此字段吗？数据列将被归档。"},
	"role":                  {"Role", "角色"},
	"role_settings":         {"Role", "角色设置"},
	"parent_role":           {"Parent role", "上级角色"},
	"keep_wildcard":         {"Keep the rights on every object", "保留对所有对象的权限"},
	"wildcard_help":         {"This role has rights on every object", "此角色对所有对象拥有权限"},
	"object_rights":         {"Objects × actions", "对象 × 操作"},
	"record_scope":          {"Records", "记录范围"},
	"scope_own":             {"own", "本人"},
	"scope_subordinates":    {"own and subordinates'", "本人及下属"},
	"scope_team":            {"team's", "本团队"},
	"scope_all":             {"all", "全部"},
	"field_rights":          {"Fields × access", "字段 × 权限"},
	"level_editable":        {"edit", "可编辑"},
	"level_read_only":       {"read", "只读"},
	"level_hidden":          {"hidden", "隐藏"},
	"sharing_rules":         {"Sharing rules", "共享规则"},
	"sharing_help":          {"Records of the object matching the condition are shared with the role.", "满足条件的记录共享给此角色。"},
	"access":                {"Access", "权限"},
	"layout_from_default":   {"New layout of the object, from its generated default", "为对象新建布局（从默认布局开始）"},
	"no_documents":          {"None yet.", "暂无。"},
	"definition_json":       {"Definition (JSON)", "定义（JSON）"},
	"definition_help":       {"Checked against its kind's schema and every other check before the change is shown.", "提交后按其类型的结构和全部规则检查，再显示变更预览。"},
	"confirm_delete_doc":    {"Delete this definition?", "确定删除此定义吗？"},
	"list_view":             {"List", "列表"},
	"board_view":            {"Board", "看板"},
	"calendar_view":         {"Calendar", "日历"},
	"board_of":              {"%s by stage", "%s看板"},
	"group_by":              {"Columns by", "分栏依据"},
	"board_help":            {"Drag a card to another column, or choose where to move it and press Move.", "拖动卡片到其他栏，或选择目标后点击“移动”。"},
	"move":                  {"Move", "移动"},
	"move_to":               {"Move to", "移动到"},
	"moved":                 {"Moved.", "已移动。"},
	"move_refused":          {"The move was refused:", "移动未成功："},
	"move_conflict":         {"the record was changed by someone else meanwhile; the board now shows it as it is.", "记录已被他人修改，看板已显示最新状态。"},
	"move_forbidden":        {"you may not make this change.", "您无权进行此修改。"},
	"calendar_of":           {"%s calendar", "%s日历"},
	"calendar_nav":          {"Calendar periods", "日历翻页"},
	"calendar_more":         {"Only the first 500 records of this period are shown.", "本时段只显示前 500 条记录。"},
	"previous":              {"Previous", "上一页"},
	"next":                  {"Next", "下一页"},
	"today":                 {"Today", "今天"},
	"view_month":            {"Month", "月"},
	"view_week":             {"Week", "周"},
	"view_day":              {"Day", "日"},
	"nothing_planned":       {"Nothing planned.", "无安排。"},
	"weekday_0":             {"Mon", "周一"},
	"weekday_1":             {"Tue", "周二"},
	"weekday_2":             {"Wed", "周三"},
	"weekday_3":             {"Thu", "周四"},
	"weekday_4":             {"Fri", "周五"},
	"weekday_5":             {"Sat", "周六"},
	"weekday_6":             {"Sun", "周日"},
	"skip_to_content":       {"Skip to content", "跳到正文"},
	"main_menu":             {"Main menu", "主菜单"},
	"home":                  {"Home", "首页"},
	"admin":                 {"Builder", "配置"},
	"sign_in":               {"Sign in", "登录"},
	"sign_out":              {"Sign out", "退出"},
	"signed_out":            {"You are signed out.", "您已退出。"},
	"username":              {"Username", "用户名"},
	"password":              {"Password", "密码"},
	"bad_login":             {"Unknown username or wrong password.", "用户名不存在或密码错误。"},
	"throttled":             {"Too many failed sign-ins: try again in %s seconds.", "登录失败次数过多，请 %s 秒后重试。"},
	"bad_language":          {"Unknown language.", "不支持的语言。"},
	"welcome":               {"Welcome, %s", "欢迎，%s"},
	"n_records":             {"%d records", "共 %d 条记录"},
	"n_records_more":        {"More than %d records", "超过 %d 条记录"},
	"new":                   {"New", "新建"},
	"edit":                  {"Edit", "编辑"},
	"delete":                {"Delete", "删除"},
	"save":                  {"Save", "保存"},
	"cancel":                {"Cancel", "取消"},
	"reload":                {"Reload the record", "重新加载记录"},
	"yes":                   {"Yes", "是"},
	"no":                    {"No", "否"},
	"none":                  {"— none —", "— 无 —"},
	"untitled":              {"(untitled)", "（无标题）"},
	"back_home":             {"Back to the home page", "返回首页"},
	"new_record":            {"New %s", "新建%s"},
	"edit_record":           {"Edit %s", "编辑 %s"},
	"saved":                 {"Saved.", "已保存。"},
	"deleted":               {"Deleted.", "已删除。"},
	"action_done":           {"Done.", "操作完成。"},
	"created_not_visible":   {"Saved. The new record is not one you may read.", "已保存。您无权查看这条新记录。"},
	"conflict_title":        {"This record was changed by someone else while you edited it.", "在您编辑期间，这条记录已被他人修改。"},
	"conflict_explained":    {"Your changes were not saved, so nothing was overwritten. Reload the record to see its current values, then make your changes again.", "您的修改没有保存，因此没有覆盖任何内容。请重新加载记录查看最新内容，然后再次修改。"},
	"computed_note":         {"Computed by the system.", "由系统自动计算。"},
	"currency_scale":        {"Amount with %d decimal places.", "金额，保留 %d 位小数。"},
	"search_in":             {"Search %s", "搜索%s"},
	"type_to_search":        {"Type to search…", "输入以搜索…"},
	"current_file":          {"Current file:", "当前文件："},
	"remove_file":           {"Remove the file", "删除文件"},
	"no_access_record":      {"(a record you may not read)", "（无权查看的记录）"},
	"record_info":           {"Record information", "记录信息"},
	"actions":               {"Actions", "操作"},
	"sharing":               {"Sharing", "共享"},
	"sharing_of":            {"Sharing of %s", "%s 的共享"},
	"shared_with":           {"Shared with", "已共享给"},
	"not_shared":            {"Not shared with anyone: only those whose rights reach it see it.", "尚未共享：只有权限范围覆盖它的用户能看到。"},
	"share_with":            {"Share with", "共享给"},
	"share_access":          {"Access", "权限"},
	"share_read":            {"Read", "只读"},
	"share_edit":            {"Read and edit", "读写"},
	"share":                 {"Share", "共享"},
	"unshare":               {"Stop sharing", "取消共享"},
	"unshare_with":          {"Stop sharing with %s", "取消与 %s 的共享"},
	"confirm_unshare":       {"Stop sharing with %s?", "确定取消与 %s 的共享吗？"},
	"shared":                {"Shared.", "已共享。"},
	"unshared":              {"No longer shared.", "已取消共享。"},
	"back_to_record":        {"Back to the record", "返回记录"},
	"share_user":            {"User", "用户"},
	"transfer_to":           {"Give to", "转交给"},
	"comment":               {"Comment", "备注"},
	"confirm_delete":        {"Delete this record?", "确定删除这条记录吗？"},
	"history":               {"History", "修改历史"},
	"no_history":            {"No tracked changes yet.", "暂无修改记录。"},
	"when":                  {"When", "时间"},
	"field":                 {"Field", "字段"},
	"old_value":             {"Before", "修改前"},
	"new_value":             {"After", "修改后"},
	"by":                    {"By", "修改人"},
	"by_system":             {"by the system", "系统自动"},
	"view_all":              {"View all", "查看全部"},
	"no_records":            {"No records.", "没有记录。"},
	"saved_views":           {"Views", "视图"},
	"all_records":           {"All", "全部"},
	"filter":                {"Filter", "筛选"},
	"conditions":            {"Conditions (all must hold)", "条件（同时满足）"},
	"add_condition":         {"Add a condition", "添加条件"},
	"remove_condition":      {"Remove condition", "删除条件"},
	"choose_field":          {"— field —", "— 字段 —"},
	"operator":              {"Operator", "运算符"},
	"value":                 {"Value", "值"},
	"advanced_filter":       {"Filter expression", "筛选表达式"},
	"advanced_filter_help":  {`For example: amount > 1000 && stage in ["proposal", "won"]`, `例如：amount > 1000 && stage in ["proposal", "won"]`},
	"apply":                 {"Apply", "应用"},
	"clear":                 {"Clear", "清除"},
	"pages":                 {"Pages", "分页"},
	"first_page":            {"First page", "第一页"},
	"next_page":             {"Next page", "下一页"},
	"save_view":             {"Save this view", "保存当前视图"},
	"view_name":             {"Name of the view", "视图名称"},
	"view_name_needed":      {"Give the view a name of up to 80 characters.", "请填写不超过 80 个字符的视图名称。"},
	"share_with_role":       {"Share with role", "共享给角色"},
	"nobody":                {"Only me", "仅自己"},
	"delete_view":           {"Delete view %s", "删除视图 %s"},
	"view_saved":            {"View saved.", "视图已保存。"},
	"view_deleted":          {"View deleted.", "视图已删除。"},
	"op_eq":                 {"is", "等于"},
	"op_ne":                 {"is not", "不等于"},
	"op_contains":           {"contains", "包含"},
	"op_starts":             {"starts with", "开头是"},
	"op_ends":               {"ends with", "结尾是"},
	"op_has":                {"includes", "包括"},
	"op_lt":                 {"less than", "小于"},
	"op_le":                 {"at most", "小于等于"},
	"op_gt":                 {"greater than", "大于"},
	"op_ge":                 {"at least", "大于等于"},
	"op_empty":              {"is empty", "为空"},
	"op_not_empty":          {"is not empty", "不为空"},
	"action_create":         {"Create", "新建"},
	"action_read":           {"Read", "查看"},
	"action_update":         {"Update", "修改"},
	"action_delete":         {"Delete", "删除"},
	"action_import":         {"Import", "导入"},
	"action_export":         {"Export", "导出"},
	"action_transfer":       {"Transfer", "转移"},
	"action_convert":        {"Convert", "转换"},
	"action_submit":         {"Submit for approval", "提交审批"},
	"action_approve":        {"Approve", "批准"},
	"action_reject":         {"Reject", "驳回"},
	"action_recall":         {"Recall", "撤回"},
	"action_reassign":       {"Reassign", "转办"},
	"reassign_from":         {"Instead of", "原审批人"},
	"reassign_to":           {"New approver", "新审批人"},
	"approval_process":      {"Approval process", "审批流程"},
	"process_first_fitting": {"The first one the record meets the entry criteria of", "自动：记录满足准入条件的第一个流程"},
	"csrf_failed":           {"The form expired or did not come from this site. Go back, reload the page and try again.", "表单已过期或并非来自本站。请返回、刷新页面后重试。"},
	"csrf_origin":           {"The request came from another site and was refused.", "请求来自其他网站，已被拒绝。"},
	"error_not_found":       {"Not found", "未找到"},
	"error_forbidden":       {"Not allowed", "无权操作"},
	"error_conflict":        {"Conflict", "冲突"},
	"error_unavailable":     {"The database cannot be reached; try again shortly", "暂时无法连接数据库，请稍后重试"},
	"error_timeout":         {"The request took too long", "请求超时"},
	"error_invalid_record":  {"The values were refused", "数据未通过校验"},
	"error_bad_query":       {"The filter is not valid", "筛选条件无效"},
	"error_other":           {"Something went wrong", "出错了"},
}

// hasMessage reports whether key is a message.
func hasMessage(key string) bool {
	_, ok := messages[key]
	return ok
}

// tr returns message key in lang, formatted with args; an unknown key is
// returned as it is (a test keeps the templates to known keys).
func tr(lang, key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	s := m[0]
	if lang == "zh" && m[1] != "" {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// fieldCtx is a form field with its page, for the field template.
type fieldCtx struct {
	P *page
	F formField
}

// funcs are the template functions.
var funcs = template.FuncMap{
	"fieldCtx":     func(p *page, f formField) fieldCtx { return fieldCtx{P: p, F: f} },
	"tokenTable":   func(p *page, ts []tokenView) tokenTable { return tokenTable{P: p, Tokens: ts} },
	"reportResult": func(p *page, d *reportData) reportResult { return reportResult{P: p, D: d} },
	"dashErrors":   func(id string, m []string) dashErrors { return dashErrors{ID: id, M: m} },
	"adhocChoices": func(p *page, f []adhocField, v string) adhocChoices { return adhocChoices{P: p, F: f, V: v} },
	"optionsOf": func(o []optionView, empty bool, lang string) optionsData {
		return optionsData{Options: o, Empty: empty, Lang: lang}
	},
	"inputType": func(k metadata.InputKind) string {
		switch k {
		case metadata.InputEmail, metadata.InputTel, metadata.InputURL:
			return string(k)
		}
		return "text"
	},
	"selectSize": func(o []optionView) int { return min(max(len(o), 2), 8) },
	"describedBy": func(f formField) string {
		var ids []string
		if f.Kind == metadata.InputCurrency {
			ids = append(ids, f.ID+"_scale")
		}
		if f.Help != "" {
			ids = append(ids, f.ID+"_help")
		}
		if f.Error != "" {
			ids = append(ids, f.ID+"_error")
		}
		return strings.Join(ids, " ")
	},
	"inc":       func(i int) int { return i + 1 },
	"hasPrefix": strings.HasPrefix,
	"errorsOf":  func(p *page, errs []ImportError) importErrors { return importErrors{P: p, Errors: errs} },
}

// importErrors is the table of lines an import refused, with its page.
type importErrors struct {
	P      *page
	Errors []ImportError
}
