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
}

func init() { mergeMessages(builderExtraMessages) }
