package ui

// builderExtraMessages are the texts of the builder's index section and
// of its templates page (install, upgrade, export and compare solution
// templates), kept apart from the core's messages and merged into them at
// start (a key in both panics).
var builderExtraMessages = map[string][2]string{
	"indexes":                {"Indexes", "索引"},
	"indexes_help":           {"Declare an index for the lists and reports your users run often: the fields they filter on with equality first, then the sort fields. The engine adds the id to an index that is not unique. Fields: %s.", "为用户常用的列表和报表声明索引：先写等值筛选的字段，再写排序字段。非唯一索引会自动追加 id。可用字段：%s。"},
	"index_fields":           {"Fields of the index", "索引字段"},
	"index_new":              {"Fields of a new index", "新索引的字段"},
	"index_fields_help":      {"One field per line, in index order; write -amount for descending.", "每行一个字段，按索引顺序；降序写作 -amount。"},
	"index_unique":           {"Unique: no two records with the same values", "唯一：不允许两条记录取值相同"},
	"index_remove":           {"Remove this index", "删除此索引"},
	"index_name":             {"Index", "索引"},
	"automatic_indexes":      {"Indexes the engine keeps by itself", "系统自动维护的索引"},
	"automatic_indexes_help": {"Read only: every object has its owner index, and each field a sharing rule tests gets one; lookups and unique fields have their own index as well.", "只读：每个对象都有负责人索引，共享规则检查的字段也各有索引；查找字段和唯一字段另有各自的索引。"},
	"solution_templates":     {"Solution templates", "解决方案模板"},
	"templates_link_help":    {"install or upgrade a built-in template, export the metadata, compare a template", "安装或升级内置模板、导出元数据、比较模板"},
	"templates_help":         {"A template is a package of metadata (objects, roles, workflows, reports …). Installing one over existing metadata merges it: what only the template changed is taken, what you changed is kept. Every install is reviewed first.", "模板是一组元数据（对象、角色、流程、报表等）。在已有元数据上安装时会合并：仅模板修改的内容被采用，您修改过的内容被保留。每次安装前都先预览。"},
	"installed_template":     {"Installed template", "已安装的模板"},
	"no_template_installed":  {"No template is known to be installed.", "尚未安装任何已知模板。"},
	"installed_as_version":   {"metadata version %d", "元数据版本 %d"},
	"builtin_templates":      {"Built-in templates", "内置模板"},
	"sample_records":         {"Sample records", "示例数据"},
	"review_install":         {"Review install", "预览安装"},
	"review_upgrade":         {"Review upgrade", "预览升级"},
	"review_template":        {"Review template %s", "预览模板 %s"},
	"export_metadata":        {"Export the metadata (zip)", "导出元数据（zip）"},
	"export_help":            {"The current metadata as a template folder, as crm template export writes it.", "当前元数据导出为模板文件夹，与 crm template export 相同。"},
	"compare_template":       {"Compare a template", "比较模板"},
	"archive_file":           {"Template folder (zip archive)", "模板文件夹（zip 压缩包）"},
	"compare_help":           {"A zip of a template folder (template.yaml and one folder per kind), such as an export: see what installing it would change, without changing anything.", "模板文件夹的 zip 压缩包（含 template.yaml 及各类定义的文件夹），例如导出文件：查看安装它会带来的变更，不做任何修改。"},
	"compare_button":         {"Compare with the current metadata", "与当前元数据比较"},
	"compare_changes":        {"Installing it would change", "安装它将变更"},
	"compare_no_changes":     {"Nothing: it holds the current metadata.", "无变更：与当前元数据相同。"},
	"conflicts_kept":         {"Conflicts: your value is kept", "冲突：保留您的修改"},
	"with_sample":            {"with sample records", "同时导入示例数据"},
	"template_applied":       {"The template is applied.", "模板已应用。"},
	"sample_created":         {"%d sample records were created.", "已创建 %d 条示例数据。"},
}

func init() { mergeMessages(builderExtraMessages) }
