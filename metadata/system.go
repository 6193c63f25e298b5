package metadata

import "time"

// OwnerField is the system field holding the id of a record's owner; role
// metadata may make it read_only for a role, and changing it needs the
// transfer right.
const OwnerField = "owner_id"

// systemFields are the definitions of the columns every object has, so
// filters, sorts and formulas can treat them like any other field. User
// references (created_by, updated_by, owner_id) hold user ids as text.
var systemFields = []*Field{
	{Name: "id", Type: "text", Label: Label{"en": "ID", "zh": "编号"}},
	{Name: "created_at", Type: "datetime", Label: Label{"en": "Created", "zh": "创建时间"}},
	{Name: "created_by", Type: "text", Label: Label{"en": "Created by", "zh": "创建人"}},
	{Name: "updated_at", Type: "datetime", Label: Label{"en": "Updated", "zh": "修改时间"}},
	{Name: "updated_by", Type: "text", Label: Label{"en": "Updated by", "zh": "修改人"}},
	{Name: "owner_id", Type: "text", Label: Label{"en": "Owner", "zh": "负责人"}},
	{Name: "version", Type: "integer", Label: Label{"en": "Version", "zh": "版本"}},
}

// SystemField returns the definition of a system column.
func SystemField(name string) (*Field, bool) {
	for _, f := range systemFields {
		if f.Name == name {
			return f, true
		}
	}
	return nil, false
}

// FieldOrSystem returns a field of the object or a system field.
func (o *Object) FieldOrSystem(name string) (*Field, bool) {
	if f, ok := SystemField(name); ok {
		return f, true
	}
	return o.Field(name)
}

// DBValue turns a storage value into the argument a driver of dialect
// takes: SQLite keeps datetimes as fixed-width UTC text so they compare
// and sort as text.
func DBValue(dialect string, v any) any {
	if t, ok := v.(time.Time); ok && dialect == DialectSQLite {
		return formatDateTime(t)
	}
	return v
}
