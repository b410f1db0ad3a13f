import {
  to = rollout_alarm.green_error_rate
  id = "web-green-5xx-rate"
}
