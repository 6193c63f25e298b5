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
	"skip_to_content":      {"Skip to content", "跳到正文"},
	"main_menu":            {"Main menu", "主菜单"},
	"home":                 {"Home", "首页"},
	"admin":                {"Builder", "配置"},
	"sign_in":              {"Sign in", "登录"},
	"sign_out":             {"Sign out", "退出"},
	"signed_out":           {"You are signed out.", "您已退出。"},
	"username":             {"Username", "用户名"},
	"password":             {"Password", "密码"},
	"bad_login":            {"Unknown username or wrong password.", "用户名不存在或密码错误。"},
	"bad_language":         {"Unknown language.", "不支持的语言。"},
	"welcome":              {"Welcome, %s", "欢迎，%s"},
	"n_records":            {"%d records", "共 %d 条记录"},
	"n_records_more":       {"More than %d records", "超过 %d 条记录"},
	"new":                  {"New", "新建"},
	"edit":                 {"Edit", "编辑"},
	"delete":               {"Delete", "删除"},
	"save":                 {"Save", "保存"},
	"cancel":               {"Cancel", "取消"},
	"reload":               {"Reload the record", "重新加载记录"},
	"yes":                  {"Yes", "是"},
	"no":                   {"No", "否"},
	"none":                 {"— none —", "— 无 —"},
	"untitled":             {"(untitled)", "（无标题）"},
	"back_home":            {"Back to the home page", "返回首页"},
	"new_record":           {"New %s", "新建%s"},
	"edit_record":          {"Edit %s", "编辑 %s"},
	"saved":                {"Saved.", "已保存。"},
	"deleted":              {"Deleted.", "已删除。"},
	"action_done":          {"Done.", "操作完成。"},
	"created_not_visible":  {"Saved. The new record is not one you may read.", "已保存。您无权查看这条新记录。"},
	"conflict_title":       {"This record was changed by someone else while you edited it.", "在您编辑期间，这条记录已被他人修改。"},
	"conflict_explained":   {"Your changes were not saved, so nothing was overwritten. Reload the record to see its current values, then make your changes again.", "您的修改没有保存，因此没有覆盖任何内容。请重新加载记录查看最新内容，然后再次修改。"},
	"computed_note":        {"Computed by the system.", "由系统自动计算。"},
	"currency_scale":       {"Amount with %d decimal places.", "金额，保留 %d 位小数。"},
	"search_in":            {"Search %s", "搜索%s"},
	"type_to_search":       {"Type to search…", "输入以搜索…"},
	"current_file":         {"Current file:", "当前文件："},
	"remove_file":          {"Remove the file", "删除文件"},
	"no_access_record":     {"(a record you may not read)", "（无权查看的记录）"},
	"record_info":          {"Record information", "记录信息"},
	"actions":              {"Actions", "操作"},
	"transfer_to":          {"Give to", "转交给"},
	"comment":              {"Comment", "备注"},
	"confirm_delete":       {"Delete this record?", "确定删除这条记录吗？"},
	"history":              {"History", "修改历史"},
	"no_history":           {"No tracked changes yet.", "暂无修改记录。"},
	"when":                 {"When", "时间"},
	"field":                {"Field", "字段"},
	"old_value":            {"Before", "修改前"},
	"new_value":            {"After", "修改后"},
	"by":                   {"By", "修改人"},
	"by_system":            {"by the system", "系统自动"},
	"view_all":             {"View all", "查看全部"},
	"no_records":           {"No records.", "没有记录。"},
	"saved_views":          {"Saved views", "已存视图"},
	"all_records":          {"All", "全部"},
	"filter":               {"Filter", "筛选"},
	"conditions":           {"Conditions (all must hold)", "条件（同时满足）"},
	"add_condition":        {"Add a condition", "添加条件"},
	"remove_condition":     {"Remove condition", "删除条件"},
	"choose_field":         {"— field —", "— 字段 —"},
	"operator":             {"Operator", "运算符"},
	"value":                {"Value", "值"},
	"advanced_filter":      {"Filter expression", "筛选表达式"},
	"advanced_filter_help": {`For example: amount > 1000 && stage in ["proposal", "won"]`, `例如：amount > 1000 && stage in ["proposal", "won"]`},
	"apply":                {"Apply", "应用"},
	"clear":                {"Clear", "清除"},
	"pages":                {"Pages", "分页"},
	"first_page":           {"First page", "第一页"},
	"next_page":            {"Next page", "下一页"},
	"save_view":            {"Save this view", "保存当前视图"},
	"view_name":            {"Name of the view", "视图名称"},
	"view_name_needed":     {"Give the view a name of up to 80 characters.", "请填写不超过 80 个字符的视图名称。"},
	"share_with_role":      {"Share with role", "共享给角色"},
	"nobody":               {"Only me", "仅自己"},
	"delete_view":          {"Delete view %s", "删除视图 %s"},
	"view_saved":           {"View saved.", "视图已保存。"},
	"view_deleted":         {"View deleted.", "视图已删除。"},
	"op_eq":                {"is", "等于"},
	"op_ne":                {"is not", "不等于"},
	"op_contains":          {"contains", "包含"},
	"op_starts":            {"starts with", "开头是"},
	"op_ends":              {"ends with", "结尾是"},
	"op_has":               {"includes", "包括"},
	"op_lt":                {"less than", "小于"},
	"op_le":                {"at most", "小于等于"},
	"op_gt":                {"greater than", "大于"},
	"op_ge":                {"at least", "大于等于"},
	"op_empty":             {"is empty", "为空"},
	"op_not_empty":         {"is not empty", "不为空"},
	"action_transfer":      {"Transfer", "转移"},
	"action_convert":       {"Convert", "转换"},
	"action_submit":        {"Submit for approval", "提交审批"},
	"action_approve":       {"Approve", "批准"},
	"action_reject":        {"Reject", "驳回"},
	"action_recall":        {"Recall", "撤回"},
	"csrf_failed":          {"The form expired or did not come from this site. Go back, reload the page and try again.", "表单已过期或并非来自本站。请返回、刷新页面后重试。"},
	"csrf_origin":          {"The request came from another site and was refused.", "请求来自其他网站，已被拒绝。"},
	"error_not_found":      {"Not found", "未找到"},
	"error_forbidden":      {"Not allowed", "无权操作"},
	"error_conflict":       {"Conflict", "冲突"},
	"error_unavailable":    {"The database cannot be reached; try again shortly", "暂时无法连接数据库，请稍后重试"},
	"error_timeout":        {"The request took too long", "请求超时"},
	"error_invalid_record": {"The values were refused", "数据未通过校验"},
	"error_bad_query":      {"The filter is not valid", "筛选条件无效"},
	"error_other":          {"Something went wrong", "出错了"},
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
	"fieldCtx": func(p *page, f formField) fieldCtx { return fieldCtx{P: p, F: f} },
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
	"inc": func(i int) int { return i + 1 },
}
