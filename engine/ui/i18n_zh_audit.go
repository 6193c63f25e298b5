package ui

// zhAuditMessages are the texts a page showed in English to a user
// reading it in Chinese before they were given keys: the engine's
// problems with a field said by their code (fe_*, errtext.go), the error
// page's and a dashboard widget's explanations, and the builder's words
// that were written in Go.
var zhAuditMessages = map[string][2]string{
	"fe_required":         {"Required", "此项为必填项"},
	"fe_unique":           {"Another record already has this value", "已有其他记录使用此值"},
	"fe_not_found":        {"No such record, or you may not see it", "找不到该记录，或您无权查看"},
	"fe_read_only":        {"Computed by the system; it cannot be changed", "由系统计算，不能修改"},
	"fe_cascade":          {"Not allowed with the value of the field it depends on", "与其所依赖字段的取值不匹配"},
	"fe_too_large":        {"Too large", "超出上限"},
	"fe_empty":            {"The file is empty", "文件为空"},
	"fe_content_type":     {"This kind of file is not accepted", "不接受此类文件"},
	"fe_unknown_field":    {"Unknown field", "未知字段"},
	"fe_min":              {"Must be at least %s", "不能小于 %s"},
	"fe_max":              {"Must be at most %s", "不能大于 %s"},
	"fe_invalid":          {"Not a valid value", "取值无效"},
	"fe_too_long":         {"Too long: at most %d characters", "过长：最多 %d 个字符"},
	"fe_too_long_any":     {"Too long", "过长"},
	"fe_pattern":          {"Not in the required format", "格式不符合要求"},
	"fe_integer":          {"Enter a whole number", "请输入整数"},
	"fe_number":           {"Enter a number", "请输入数字"},
	"fe_email":            {"Enter an e-mail address", "请输入有效的邮箱地址"},
	"fe_phone":            {"Enter a phone number", "请输入有效的电话号码"},
	"fe_url":              {"Enter an address starting with http:// or https://", "请输入以 http:// 或 https:// 开头的网址"},
	"fe_date":             {"Enter a date", "请输入有效的日期"},
	"fe_datetime":         {"Enter a date and time", "请输入有效的日期和时间"},
	"fe_option":           {"Choose one of the options", "请从选项中选择"},
	"fe_record":           {"Choose a record", "请选择一条记录"},
	"fe_file":             {"Not a valid file", "文件无效"},
	"fe_boolean":          {"Choose yes or no", "请选择是或否"},
	"page_not_found_text": {"What you asked for does not exist, or you may not see it.", "您要查看的内容不存在，或您无权查看。"},
	"page_forbidden_text": {"Your rights do not allow this.", "您的权限不允许此操作。"},
	"no_version_page":     {"The page has no valid version; reload it.", "页面上的版本无效，请刷新页面。"},
	"no_version_form":     {"The form has no valid version; reload it.", "表单上的版本无效，请刷新页面。"},
	"no_version_card":     {"The card has no valid version; reload the board.", "卡片上的版本无效，请刷新看板。"},
	"widget_not_found":    {"Its report does not exist or is not offered to you.", "该组件的报表不存在，或未向您开放。"},
	"widget_forbidden":    {"You may not see its data.", "您无权查看该组件的数据。"},
	"widget_invalid":      {"Its report cannot run: %s", "该组件的报表无法运行：%s"},
	"widget_failed":       {"It cannot be shown now.", "该组件暂时无法显示。"},
	"filter_refused":      {"The filter cannot be used: %s", "筛选条件有误：%s"},
}

func init() { mergeMessages(zhAuditMessages) }
