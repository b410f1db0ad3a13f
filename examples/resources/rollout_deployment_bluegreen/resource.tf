# Blue/green for an ECS service on Fargate. The deployment owns both target
# groups and the listener's forward action; two ECS services, one per color,
# register their tasks in them.
resource "rollout_deployment_bluegreen" "web" {
  listener_arn      = aws_lb_listener.https.arn
  test_listener_arn = aws_lb_listener.test.arn # always forwards to the idle color
  name_prefix       = "web"
  vpc_id            = var.vpc_id
  port              = 8080
  protocol          = "HTTP"
  target_type       = "ip"
  health_check      = { path = "/health", healthy_threshold = 2, unhealthy_threshold = 2, interval = 30, timeout = 5, matcher = "200" }

  # Flip to "blue" to roll back: the plan shows the schedule.
  active = "green"

  rollout = {
    strategy = "canary"
    steps = [
      { percent = 10, pause = "2m" },
      { percent = 25, pause = "2m" },
      { percent = 50, pause = "2m" },
      { percent = 75, pause = "2m" },
      { percent = 100 },
    ]
    gates = {
      health = { min_healthy_targets = 2 }
      alarms = [rollout_alarm.web_errors.name]
    }
  }
}

resource "aws_ecs_service" "web_blue" {
  name            = "web-blue"
  cluster         = aws_ecs_cluster.main.id
  task_definition = var.blue_task_definition
  desired_count   = 2
  launch_type     = "FARGATE"

  load_balancer {
    target_group_arn = rollout_deployment_bluegreen.web.blue_target_group_arn
    container_name   = "web"
    container_port   = 8080
  }

  network_configuration {
    subnets = var.private_subnet_ids
  }
}

resource "aws_ecs_service" "web_green" {
  name            = "web-green"
  cluster         = aws_ecs_cluster.main.id
  task_definition = var.green_task_definition
  desired_count   = 2
  launch_type     = "FARGATE"

  load_balancer {
    target_group_arn = rollout_deployment_bluegreen.web.green_target_group_arn
    container_name   = "web"
    container_port   = 8080
  }

  network_configuration {
    subnets = var.private_subnet_ids
  }
}

# With EC2 Auto Scaling groups instead (target_type = "instance"), attach
# each group to its color:
resource "aws_autoscaling_attachment" "api_blue" {
  autoscaling_group_name = aws_autoscaling_group.api_blue.name
  lb_target_group_arn    = rollout_deployment_bluegreen.api.blue_target_group_arn
}

resource "aws_autoscaling_attachment" "api_green" {
  autoscaling_group_name = aws_autoscaling_group.api_green.name
  lb_target_group_arn    = rollout_deployment_bluegreen.api.green_target_group_arn
}

resource "rollout_deployment_bluegreen" "api" {
  listener_arn = aws_lb_listener.api.arn
  name_prefix  = "api"
  vpc_id       = var.vpc_id
  port         = 80
  protocol     = "HTTP"
  active       = "blue"
}

output "web_live" {
  value = rollout_deployment_bluegreen.web.live_target_group_arn
}

output "web_history" {
  value = rollout_deployment_bluegreen.web.history
}
