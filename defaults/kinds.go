package defaults

// The built-in templates ship documents of the sales rule kinds
// (conversions, duplicate and assignment rules, web forms): loading a
// template needs its kinds registered, wherever it is loaded.
import _ "github.com/crmplatform/crm/sales/rules"
