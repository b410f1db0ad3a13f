# What a rollout's alarms gate would see now.
data "rollout_alarm_state" "web" {
  names = [rollout_alarm.green_error_rate.name, rollout_alarm.green_p99.name]
}

output "web_alarms_firing" {
  value = data.rollout_alarm_state.web.any_in_alarm
}
