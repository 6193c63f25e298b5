package ui

// inboxMessages are the texts of the page of all the user's
// notifications and of a webhook's page of deliveries, kept apart from
// the core's messages and merged into them at start (a key in both
// panics).
var inboxMessages = map[string][2]string{
	"notifications":        {"Notifications", "通知"},
	"all_notifications":    {"All notifications", "全部通知"},
	"mark_all_read":        {"Mark all as read", "全部标为已读"},
	"all_marked_read":      {"All notifications are marked as read.", "所有通知已标为已读。"},
	"notices_show":         {"Show", "显示"},
	"notices_all":          {"All", "全部"},
	"notices_unread":       {"Unread", "未读"},
	"notice_kind":          {"Kind", "类型"},
	"notice_subject":       {"Subject", "主题"},
	"notice_message":       {"Message", "内容"},
	"notice_read":          {"Read", "已读"},
	"notice_withheld":      {"About a record you may no longer see.", "涉及一条您已无权查看的记录。"},
	"no_notices":           {"No notifications yet.", "暂无通知。"},
	"no_unread_notices":    {"No unread notifications.", "没有未读通知。"},
	"all_deliveries":       {"All deliveries", "全部推送记录"},
	"deliveries_of":        {"Deliveries of webhook %s", "Webhook %s 的推送记录"},
	"deliveries_state":     {"State", "状态"},
	"deliveries_all":       {"All", "全部"},
	"delivery_status":      {"Last status", "最近状态码"},
	"delivery_error":       {"Last error", "最近错误"},
	"delivery_next":        {"Next attempt", "下次尝试"},
	"back_to_webhook":      {"Back to the webhook", "返回 Webhook"},
	"no_deliveries_filter": {"No deliveries in this state.", "没有该状态的推送记录。"},
}

func init() { mergeMessages(inboxMessages) }
